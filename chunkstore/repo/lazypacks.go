package repo

import (
	"context"
	"errors"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
)

// lazyPacks reports whether packs are verified on first use: with the
// index cache in use.
func (r *Repository) lazyPacks() bool {
	return r.cache != nil && r.idx.Base() != nil
}

// hasVerified is HasUsable with the index cache: a blob is usable when a
// copy outside excluded packs is in a pack the store is confirmed to hold.
// Each pack is looked up in the store once; a pack the store lacks is
// marked missing, and an error means the blob is stored again.
func (r *Repository) hasVerified(id core.ID) bool {
	for _, l := range r.idx.LookupAll(id) {
		if r.Excluded(l.Pack) || !r.packConfirmed(l.Pack) {
			continue
		}
		return true
	}
	return false
}

func (r *Repository) packConfirmed(p core.ID) bool {
	r.idxMu.Lock()
	_, ok := r.verified[p]
	_, gone := r.missing[p]
	r.idxMu.Unlock()
	if ok || gone {
		return ok
	}
	_, err := r.store.Stat(context.Background(), PackName(p))
	switch {
	case err == nil:
		r.idxMu.Lock()
		r.verified[p] = struct{}{}
		r.idxMu.Unlock()
		return true
	case errors.Is(err, blob.ErrNotFound):
		r.MarkMissing(p)
	}
	return false
}
