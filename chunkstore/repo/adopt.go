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
func (r *Repository) AdoptUnindexed(ctx context.Context) (int, error) {
	packs, err := r.VerifyPacks(ctx)
	if err != nil {
		return 0, err
	}
	known := map[core.ID]struct{}{}
	if !r.lazyPacks() {
		// With the index cache, unindexed packs are left to prune, which
		// removes them: adopting them would walk the whole index first.
		known = r.KnownPacks()
	}
	f := index.File{Packs: r.headerPackEntries()}
	for _, p := range packs {
		if _, ok := known[p.ID]; ok || r.Excluded(p.ID) {
			continue
		}
		blobs, err := r.ReadPackHeader(ctx, p.ID, p.Size)
		if err != nil {
			continue
		}
		if err := r.idx.AddPack(p.ID, blobs); err != nil {
			continue
		}
		f.Packs = append(f.Packs, index.PackEntry{ID: p.ID, Blobs: blobs})
	}
	if len(f.Packs) == 0 {
		return 0, nil
	}
	if _, err := r.SaveIndexFile(ctx, &f); err != nil {
		return 0, fmt.Errorf("index adopted packs: %w", err)
	}
	r.idxMu.Lock()
	for _, p := range f.Packs {
		delete(r.headerPacks, p.ID) // an index file in the store lists it now
	}
	r.idxMu.Unlock()
	return len(f.Packs), nil
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
