package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strings"
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
	// Damage says why a key file cannot be used (it is corrupt); such a
	// key opens no password and is best removed and added again.
	Damage string `json:"damage,omitempty"`
}

// UnlockError is a password that opened no key file. Damaged key files
// are counted apart: the password may belong to one of them, and then
// another password (another key file) still opens the repository.
type UnlockError struct {
	Location string
	Tried    int
	// Damaged names the key files that could not be read or parsed.
	Damaged []DamagedKey
}

// DamagedKey is a key file that cannot be used, and why.
type DamagedKey struct {
	ID  core.ID
	Err error
}

func (e *UnlockError) Error() string {
	msg := fmt.Sprintf("open %s (%d keys tried): %v", e.Location, e.Tried, crypto.ErrWrongPassword)
	if len(e.Damaged) > 0 {
		msg += fmt.Sprintf("; %d key files are damaged (%s), so this password may belong to one of them: "+
			"open the repository with another password and run 'cairn repo check'", len(e.Damaged), damagedNames(e.Damaged))
	}
	return msg
}

func (e *UnlockError) Unwrap() error { return crypto.ErrWrongPassword }

func damagedNames(keys []DamagedKey) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = fileName(KindKey, k.ID)
	}
	return strings.Join(names, ", ")
}

// unlock finds the key file that password opens. A damaged key file costs
// only its own password: it is skipped (and reported through warn) rather
// than ending the search, so the other keys still open the repository.
func unlock(ctx context.Context, store blob.Store, password []byte, warn func(error)) (crypto.MasterKey, core.ID, error) {
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
	uerr := &UnlockError{Location: store.Location(), Tried: len(ids)}
	for i, id := range ids {
		master, err := tryKey(ctx, store, id, password)
		if err == nil {
			// The keys not tried are parsed too (no password hashing), so
			// a damaged one is reported whichever order the store lists.
			for _, rest := range ids[i+1:] {
				if _, err := loadKeyFile(ctx, store, rest); err != nil && isDamage(err) {
					uerr.Damaged = append(uerr.Damaged, DamagedKey{ID: rest, Err: err})
				}
			}
			for _, d := range uerr.Damaged {
				warn(fmt.Errorf("key file %s is damaged: %w; remove it with 'cairn repo key remove %s' and add its password again", fileName(KindKey, d.ID), d.Err, d.ID.Short()))
			}
			return master, id, nil
		}
		switch {
		case errors.Is(err, crypto.ErrWrongPassword):
		case errors.Is(err, blob.ErrNotFound):
			uerr.Tried-- // removed since the listing
		case isDamage(err):
			uerr.Damaged = append(uerr.Damaged, DamagedKey{ID: id, Err: err})
		default:
			return crypto.MasterKey{}, core.ID{}, fmt.Errorf("open %s: key %s: %w", store.Location(), id.Short(), err)
		}
	}
	return crypto.MasterKey{}, core.ID{}, uerr
}

// tryKey loads one key file and unwraps it with password.
func tryKey(ctx context.Context, store blob.Store, id core.ID, password []byte) (crypto.MasterKey, error) {
	kf, err := loadKeyFile(ctx, store, id)
	if err != nil {
		return crypto.MasterKey{}, err
	}
	master, err := kf.Unwrap(password)
	if err != nil && !errors.Is(err, crypto.ErrWrongPassword) {
		return crypto.MasterKey{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return master, err
}

// isDamage reports whether err says an object's bytes are bad, as opposed
// to the store failing to deliver them.
func isDamage(err error) bool {
	return errors.Is(err, ErrCorrupt)
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
		return nil, fmt.Errorf("read key %s: %w: %w", name, ErrCorrupt, err)
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
		switch {
		case errors.Is(err, blob.ErrNotFound):
			continue // removed since the listing
		case err != nil && isDamage(err):
			infos = append(infos, KeyInfo{ID: id, Damage: err.Error()})
			continue
		case err != nil:
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
