package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/pack"
)

// Kinds of sealed files outside packs; each is a folder in the store.
const (
	KindSnapshot = "snapshots"
	KindIndex    = "index"
	KindSession  = "sessions"
	KindPending  = "pending"
	KindKey      = "keys"
	// KindManifest holds documents other layers attach to the repository,
	// such as a cluster backup's manifest and log.
	KindManifest = "manifests"
	configName   = "config"
	dataDir      = "data"
)

// ErrCorrupt marks an object whose bytes fail authentication or do not match
// its name. It is core.ErrCorrupt, so errors.Is works with either.
var ErrCorrupt = core.ErrCorrupt

// PackName returns the store name of a pack.
func PackName(id core.ID) string {
	s := id.String()
	return dataDir + "/" + s[:2] + "/" + s
}

func fileName(kind string, id core.ID) string { return kind + "/" + id.String() }

// SaveFile seals plain and stores it as kind/<id>, where id is the BLAKE3 of
// the stored bytes.
func (r *Repository) SaveFile(ctx context.Context, kind string, plain []byte) (core.ID, error) {
	sealed := r.key.Seal(nil, plain)
	id := pack.ID(sealed)
	if err := r.store.Put(ctx, fileName(kind, id), sealed); err != nil {
		return id, fmt.Errorf("save %s: %w", fileName(kind, id), err)
	}
	return id, nil
}

// LoadFile fetches kind/<id>, verifies it against its name and decrypts it.
func (r *Repository) LoadFile(ctx context.Context, kind string, id core.ID) ([]byte, error) {
	name := fileName(kind, id)
	sealed, err := r.store.Get(ctx, name, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	if pack.ID(sealed) != id {
		// No advice here: each kind of file has its own fix, which the
		// caller gives.
		return nil, fmt.Errorf("load %s: %w: content does not match its name", name, ErrCorrupt)
	}
	plain, err := r.key.Open(nil, sealed)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w: %w", name, ErrCorrupt, err)
	}
	return plain, nil
}

// SaveJSON stores v as a sealed JSON file of the given kind.
func (r *Repository) SaveJSON(ctx context.Context, kind string, v any) (core.ID, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return core.ID{}, fmt.Errorf("encode %s: %w", kind, err)
	}
	return r.SaveFile(ctx, kind, b)
}

// LoadJSON loads kind/<id> and decodes it into v.
func (r *Repository) LoadJSON(ctx context.Context, kind string, id core.ID, v any) error {
	b, err := r.LoadFile(ctx, kind, id)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w: %w", fileName(kind, id), ErrCorrupt, err)
	}
	return nil
}

// DeleteFile removes kind/<id>. A missing file is not an error: deletes are
// retried after crashes.
func (r *Repository) DeleteFile(ctx context.Context, kind string, id core.ID) error {
	err := r.store.Delete(ctx, fileName(kind, id))
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("delete %s: %w", fileName(kind, id), err)
	}
	return nil
}

// ListFiles returns the IDs of every file of a kind. Names that are not IDs
// (left by other tools) are ignored.
func (r *Repository) ListFiles(ctx context.Context, kind string) ([]core.ID, error) {
	var ids []core.ID
	err := r.store.List(ctx, kind+"/", func(info blob.Info) error {
		id, err := core.ParseID(strings.TrimPrefix(info.Name, kind+"/"))
		if err == nil {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	return ids, nil
}

// PackInfo is a stored pack and its size.
type PackInfo struct {
	ID   core.ID
	Size int64
	blob.Info
}

// ListPacks returns every pack in the store.
func (r *Repository) ListPacks(ctx context.Context) ([]PackInfo, error) {
	var packs []PackInfo
	err := r.EachStoredPack(ctx, func(p PackInfo) error {
		packs = append(packs, p)
		return nil
	})
	return packs, err
}

// EachStoredPack calls fn with every pack in the store, as it is listed,
// so that a listing of millions of packs costs no memory. It stops at
// fn's first error.
func (r *Repository) EachStoredPack(ctx context.Context, fn func(PackInfo) error) error {
	err := r.store.List(ctx, dataDir+"/", func(info blob.Info) error {
		i := strings.LastIndexByte(info.Name, '/')
		id, err := core.ParseID(info.Name[i+1:])
		if err != nil || PackName(id) != info.Name {
			return nil
		}
		return fn(PackInfo{ID: id, Size: info.Size, Info: info})
	})
	if err != nil {
		return fmt.Errorf("list packs: %w", err)
	}
	return nil
}
