package repo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/compress"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/pack"
)

// ErrBlobMissing means no index entry names the blob.
var ErrBlobMissing = errors.New("blob not in index")

// LoadBlob returns the plaintext of a blob, appended to dst. Each copy the
// index knows is tried in turn, so a blob that also lives in a healthy pack
// survives one corrupt copy.
func (r *Repository) LoadBlob(ctx context.Context, t core.BlobType, id core.ID, dst []byte) ([]byte, error) {
	locs := r.idx.LookupAll(id)
	if len(locs) == 0 {
		return nil, fmt.Errorf("load %s blob %s: %w; 'cairn repo check' names what is affected and 'cairn repo repair' rewrites it", t, id.Short(), ErrBlobMissing)
	}
	// Copies in packs marked for deletion go last: they may vanish.
	slices.SortStableFunc(locs, func(a, b index.Location) int {
		return cmpBool(r.Excluded(a.Pack), r.Excluded(b.Pack))
	})
	var errs []error
	for _, loc := range locs {
		if loc.Type != t {
			continue
		}
		out, err := r.loadAt(ctx, id, loc, dst)
		if err == nil {
			return out, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("load %s blob %s: stored only as another type; %w", t, id.Short(), ErrCorrupt)
	}
	return nil, errors.Join(errs...)
}

func (r *Repository) loadAt(ctx context.Context, id core.ID, loc index.Location, dst []byte) ([]byte, error) {
	if loc.Type == core.TreeBlob {
		if out, ok, err := r.loadTreeBlob(ctx, id, loc, dst); ok {
			if err != nil {
				return nil, fmt.Errorf("load blob %s from pack %s: %w", id.Short(), loc.Pack.Short(), err)
			}
			return out, nil
		}
	}
	sealed, err := r.store.Get(ctx, PackName(loc.Pack), int64(loc.Offset), int64(loc.Length))
	if errors.Is(err, blob.ErrNotFound) {
		r.MarkMissing(loc.Pack)
	}
	if err != nil {
		return nil, fmt.Errorf("load blob %s from pack %s: %w", id.Short(), loc.Pack.Short(), err)
	}
	return r.OpenBlob(id, loc, sealed, dst, nil)
}

// OpenScratch is one worker's reusable state for OpenBlob: its hasher and
// the buffer compressed blobs are decrypted into before decompression.
// Reusing it keeps a restore or a read-all check from allocating per blob.
type OpenScratch struct {
	h         *chunker.Hasher
	decrypted []byte
}

// NewOpenScratch returns scratch state for OpenBlob; it is not safe for
// concurrent use.
func (r *Repository) NewOpenScratch() *OpenScratch {
	return &OpenScratch{h: r.NewHasher()}
}

// OpenBlob decrypts, decompresses and verifies one sealed blob read from a
// pack, appending the plaintext to dst. o may be nil; workers pass their own
// to avoid allocating per blob.
func (r *Repository) OpenBlob(id core.ID, loc index.Location, sealed, dst []byte, o *OpenScratch) ([]byte, error) {
	if o == nil {
		o = r.NewOpenScratch()
	}
	// A raw blob decrypts straight into dst: no allocation, no copy. Only
	// compressed ones need the decrypted bytes apart, to decompress them.
	compressed := IsCompressed(loc)
	into := dst
	if compressed {
		into = o.decrypted[:0]
	}
	plain, err := r.key.Open(into, sealed)
	if err != nil {
		return nil, fmt.Errorf("blob %s in pack %s: %w: %w; run 'cairn repo check --read-data'", id.Short(), loc.Pack.Short(), ErrCorrupt, err)
	}
	if compressed {
		o.decrypted = plain[:0]
		plain, err = compress.Decompress(dst, plain, int(loc.RawLength))
		if err != nil {
			return nil, fmt.Errorf("blob %s in pack %s: %w: decompress: %w", id.Short(), loc.Pack.Short(), ErrCorrupt, err)
		}
	}
	if len(plain)-len(dst) != int(loc.RawLength) {
		return nil, fmt.Errorf("blob %s in pack %s: %w: %d bytes, index says %d", id.Short(), loc.Pack.Short(), ErrCorrupt, len(plain)-len(dst), loc.RawLength)
	}
	if o.h.Sum(plain[len(dst):]) != id {
		return nil, fmt.Errorf("blob %s in pack %s: %w: content does not match its ID", id.Short(), loc.Pack.Short(), ErrCorrupt)
	}
	return plain, nil
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// IsCompressed reports whether a stored blob holds zstd data. The format
// stores a blob compressed only when that makes it strictly smaller, so the
// lengths alone decide.
func IsCompressed(loc index.Location) bool {
	return int64(loc.Length)-crypto.Overhead < int64(loc.RawLength)
}

// NewHasher returns a chunk-ID hasher for this repository.
func (r *Repository) NewHasher() *chunker.Hasher {
	return chunker.NewHasher(r.cfg.IDKeyArray())
}

// NewSplitter returns a chunker for this repository's polynomial.
func (r *Repository) NewSplitter() *chunker.Splitter {
	pol, _ := r.cfg.Pol() // validated by ParseConfig
	return chunker.NewSplitter(pol)
}

// PackID returns the name a pack's bytes have under this repository's
// format version: the hash of its sealed header (version 2) or of all its
// bytes (version 1). data is the whole pack.
func (r *Repository) PackID(data []byte) (core.ID, error) {
	if r.cfg.Version < 2 {
		return pack.ID(data), nil
	}
	return pack.HeaderID(data, int64(len(data)))
}
