package repo

import (
	"context"
	"fmt"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/pack"
)

// headerProbe is how much of a pack's end is fetched first to find its
// header: one GET covers the header of a pack of ~1500 blobs.
const headerProbe = 64 << 10

// KnownPacks returns the set of packs the loaded index lists.
func (r *Repository) KnownPacks() map[core.ID]struct{} {
	known := map[core.ID]struct{}{}
	r.idx.EachPack(func(p core.ID, _ []index.Blob) bool {
		known[p] = struct{}{}
		return true
	})
	return known
}

// AdoptUnindexed finds packs that no index file lists, typically uploaded by
// a backup that was killed before it wrote its index, reads their headers
// and indexes them, so their blobs are reused instead of uploaded again.
// Packs indexed from their headers after a damaged index file are written
// to an index file too. Packs marked for deletion are left alone.
// Unreadable packs are skipped: check reports them and prune removes them.
// It verifies the index against the store first (VerifyPacks), which
// every writer needs once per session anyway.
//
// With the index cache a writer does not list the store at every start:
// it looks for unindexed packs only when resume is set (the caller knows
// it takes over a stopped backup) or when a session of a writer that is
// gone is in the repository (see adoptAfterCrash).
func (r *Repository) AdoptUnindexed(ctx context.Context, resume bool) (int, error) {
	packs, err := r.VerifyPacks(ctx)
	if err != nil {
		return 0, err
	}
	f := index.File{Packs: r.headerPackEntries()}
	if r.lazyPacks() {
		return r.adoptAfterCrash(ctx, resume, &f)
	}
	known := r.KnownPacks()
	for _, p := range packs {
		if _, ok := known[p.ID]; !ok {
			r.adoptPack(ctx, p.ID, p.Size, &f)
		}
	}
	return r.saveAdopted(ctx, &f)
}

// adoptPack indexes pack id from its header and adds it to f, unless it is
// marked for deletion or unreadable.
func (r *Repository) adoptPack(ctx context.Context, id core.ID, size int64, f *index.File) {
	if r.Excluded(id) {
		return
	}
	blobs, err := r.ReadPackHeader(ctx, id, size)
	if err != nil {
		return
	}
	if err := r.idx.AddPack(id, blobs); err != nil {
		return
	}
	f.Packs = append(f.Packs, index.PackEntry{ID: id, Blobs: blobs})
}

func (r *Repository) saveAdopted(ctx context.Context, f *index.File) (int, error) {
	if len(f.Packs) == 0 {
		return 0, nil
	}
	if _, err := r.SaveIndexFile(ctx, f); err != nil {
		return 0, fmt.Errorf("index adopted packs: %w", err)
	}
	r.idxMu.Lock()
	for _, p := range f.Packs {
		delete(r.headerPacks, p.ID) // an index file in the store lists it now
	}
	r.idxMu.Unlock()
	return len(f.Packs), nil
}

// adoptAfterCrash is AdoptUnindexed with the index cache. A writer that
// died leaves its session file behind, and its unindexed packs are what a
// rerun can reuse; without such a sign (and without resume) the store is
// not listed, so a start costs nothing in proportion to the repository.
// The listing is streamed and each pack looked up in the index, so memory
// stays bounded. Once the packs are indexed, the dead sessions' files are
// removed (prune already treats them as gone), so later writers skip the
// listing.
func (r *Repository) adoptAfterCrash(ctx context.Context, resume bool, f *index.File) (int, error) {
	dead, err := r.deadSessions(ctx)
	if err != nil {
		return 0, err
	}
	if !resume && len(dead) == 0 {
		return r.saveAdopted(ctx, f)
	}
	err = r.EachStoredPack(ctx, func(p PackInfo) error {
		if !r.idx.HasPack(p.ID) {
			r.adoptPack(ctx, p.ID, p.Size, f)
		}
		return ctx.Err()
	})
	if err != nil {
		return 0, err
	}
	n, err := r.saveAdopted(ctx, f)
	if err != nil {
		return 0, err
	}
	for _, id := range dead {
		_ = r.RemoveSession(ctx, id) // prune removes any left
	}
	return n, nil
}

// deadSessions returns the sessions whose writers are gone or stale.
func (r *Repository) deadSessions(ctx context.Context) ([]core.ID, error) {
	sessions, err := r.Sessions(ctx)
	if err != nil {
		return nil, err
	}
	var dead []core.ID
	for _, s := range sessions {
		if s.Stale && s.Err == nil {
			dead = append(dead, s.ID)
		}
	}
	return dead, nil
}

// headerPackEntries returns the packs indexed from their headers that are
// not marked for deletion.
func (r *Repository) headerPackEntries() []index.PackEntry {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	var out []index.PackEntry
	for p, blobs := range r.headerPacks {
		if _, ok := r.excluded[p]; !ok {
			out = append(out, index.PackEntry{ID: p, Blobs: blobs})
		}
	}
	return out
}

// ReadPackHeader fetches and parses the header of a stored pack.
func (r *Repository) ReadPackHeader(ctx context.Context, id core.ID, size int64) ([]index.Blob, error) {
	name := PackName(id)
	probe := min(size, headerProbe)
	tail, err := r.store.Get(ctx, name, size-probe, probe)
	if err != nil {
		return nil, fmt.Errorf("read header of pack %s: %w", id.Short(), err)
	}
	hlen, err := pack.HeaderLength(tail, size)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", id.Short(), err)
	}
	if need := int64(hlen + pack.TailSize); need > probe {
		if tail, err = r.store.Get(ctx, name, size-need, need); err != nil {
			return nil, fmt.Errorf("read header of pack %s: %w", id.Short(), err)
		}
	}
	blobs, err := pack.ParseHeader(r.key, tail, size)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", id.Short(), err)
	}
	return blobs, nil
}
