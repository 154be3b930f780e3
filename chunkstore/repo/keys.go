package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"runtime"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/pack"
)

// maxKeysTried bounds how many key files Open tries: each try costs one
// password hash, and a repository with more keys than this is misconfigured.
const maxKeysTried = 64

// KeyInfo describes a key file, without secrets.
type KeyInfo struct {
	ID       core.ID   `json:"id"`
	Current  bool      `json:"current"`
	Created  time.Time `json:"created"`
	Hostname string    `json:"hostname"`
	Username string    `json:"username"`
}

// unlock finds the key file that password opens.
func unlock(ctx context.Context, store blob.Store, password []byte) (crypto.MasterKey, core.ID, error) {
	ids, err := listKeyIDs(ctx, store)
	if err != nil {
		return crypto.MasterKey{}, core.ID{}, err
	}
	if len(ids) == 0 {
		return crypto.MasterKey{}, core.ID{}, fmt.Errorf("open %s: %w: the repository has no key files; restore keys/ from a copy", store.Location(), ErrCorrupt)
	}
	if len(ids) > maxKeysTried {
		ids = ids[:maxKeysTried]
	}
	// Each password check fills a large argon2 buffer (64 MiB by default)
	// that is garbage the moment it returns. Collecting it here, while
	// little else is live, sets the next collection by what the caller
	// keeps rather than by that buffer, and lets later allocations reuse its
	// pages instead of growing the process.
	defer runtime.GC()
	for _, id := range ids {
		kf, err := loadKeyFile(ctx, store, id)
		if err != nil {
			return crypto.MasterKey{}, core.ID{}, err
		}
		master, err := kf.Unwrap(password)
		if err == nil {
			return master, id, nil
		}
		if !errors.Is(err, crypto.ErrWrongPassword) {
			return crypto.MasterKey{}, core.ID{}, fmt.Errorf("open %s: key %s: %w", store.Location(), id.Short(), err)
		}
	}
	return crypto.MasterKey{}, core.ID{}, fmt.Errorf("open %s (%d keys tried): %w",
		store.Location(), len(ids), crypto.ErrWrongPassword)
}

func listKeyIDs(ctx context.Context, store blob.Store) ([]core.ID, error) {
	var ids []core.ID
	err := store.List(ctx, KindKey+"/", func(info blob.Info) error {
		if id, err := core.ParseID(info.Name[len(KindKey)+1:]); err == nil {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: list keys: %w", store.Location(), err)
	}
	return ids, nil
}

func loadKeyFile(ctx context.Context, store blob.Store, id core.ID) (*crypto.KeyFile, error) {
	name := fileName(KindKey, id)
	b, err := store.Get(ctx, name, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", name, err)
	}
	if pack.ID(b) != id {
		return nil, fmt.Errorf("read key %s: %w: content does not match its name", name, ErrCorrupt)
	}
	kf, err := crypto.ParseKeyFile(b)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", name, err)
	}
	return kf, nil
}

// AddKey wraps the master key with a new password and stores it.
func (r *Repository) AddKey(ctx context.Context, password []byte, opts Options) (core.ID, error) {
	if len(password) == 0 {
		return core.ID{}, errors.New("add key: the password is empty; an empty password would leave the repository open to anyone with the storage")
	}
	meta := crypto.KeyMeta{Hostname: opts.Host, Username: opts.User, Created: r.clock.Now()}
	if meta.Hostname == "" {
		meta.Hostname, _ = os.Hostname()
	}
	if meta.Username == "" {
		if u, err := user.Current(); err == nil {
			meta.Username = u.Username
		}
	}
	kf, err := crypto.NewKeyFile(r.master, password, opts.kdf(), meta)
	if err != nil {
		return core.ID{}, fmt.Errorf("add key: %w", err)
	}
	b, err := kf.Marshal()
	if err != nil {
		return core.ID{}, fmt.Errorf("add key: %w", err)
	}
	id := pack.ID(b)
	if err := r.store.Put(ctx, fileName(KindKey, id), b); err != nil {
		return core.ID{}, fmt.Errorf("add key: %w", err)
	}
	return id, nil
}

// Keys lists the key files.
func (r *Repository) Keys(ctx context.Context) ([]KeyInfo, error) {
	ids, err := listKeyIDs(ctx, r.store)
	if err != nil {
		return nil, err
	}
	infos := make([]KeyInfo, 0, len(ids))
	for _, id := range ids {
		kf, err := loadKeyFile(ctx, r.store, id)
		if err != nil {
			return nil, err
		}
		infos = append(infos, KeyInfo{ID: id, Current: id == r.keyID, Created: kf.Created,
			Hostname: kf.Hostname, Username: kf.Username})
	}
	return infos, nil
}

// RemoveKey deletes a key file. The key that opened this session cannot be
// removed, which also guarantees the last key is never removed.
func (r *Repository) RemoveKey(ctx context.Context, id core.ID) error {
	if id == r.keyID {
		return fmt.Errorf("remove key %s: it is the key in use; open the repository with another password to remove it", id.Short())
	}
	if err := r.store.Delete(ctx, fileName(KindKey, id)); err != nil {
		return fmt.Errorf("remove key %s: %w", id.Short(), err)
	}
	return nil
}

// ChangePassword replaces the current key with one for newPassword. Data is
// not re-encrypted: only the master key's wrapping changes.
func (r *Repository) ChangePassword(ctx context.Context, newPassword []byte, opts Options) (core.ID, error) {
	id, err := r.AddKey(ctx, newPassword, opts)
	if err != nil {
		return core.ID{}, err
	}
	old := r.keyID
	r.keyID = id
	if err := r.store.Delete(ctx, fileName(KindKey, old)); err != nil {
		return id, fmt.Errorf("change password: new key %s added, but removing the old key %s failed: %w; remove it with 'cairn repo key remove'", id.Short(), old.Short(), err)
	}
	return id, nil
}

// KeyID returns the ID of the key file that opened the repository.
func (r *Repository) KeyID() core.ID { return r.keyID }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
