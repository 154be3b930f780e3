package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
)

// VerifyPacks lists the store's packs and compares them with the index.
// An indexed pack the store lacks is lost: its entries are hidden from
// lookups, so a writer stores its blobs again instead of deduplicating
// against data that is gone, and a reader takes another copy if one exists.
// Every writer calls it once per session, before the first blob is saved
// (AdoptUnindexed does). It returns the listing.
//
// With the index cache, listing the store and walking the index would
// cost time and memory in proportion to the repository, so it returns no
// listing and packs are checked on first use instead (hasVerified).
func (r *Repository) VerifyPacks(ctx context.Context) ([]PackInfo, error) {
	if r.lazyPacks() {
		return nil, nil
	}
	packs, err := r.ListPacks(ctx)
	if err != nil {
		return nil, err
	}
	present := make(map[core.ID]struct{}, len(packs))
	for _, p := range packs {
		present[p.ID] = struct{}{}
	}
	r.idxMu.Lock()
	r.present = present
	r.idxMu.Unlock()
	lost := map[core.ID]int{}
	r.idx.EachPack(func(p core.ID, blobs []index.Blob) bool {
		if _, ok := present[p]; !ok {
			lost[p] = len(blobs)
		}
		return true
	})
	r.markMissing(lost)
	return packs, nil
}

// checkNewPacks confirms, once the packs have been verified this session,
// that packs named by index files loaded since are in the store: an index
// file may name a pack the store lost, or one a prune deleted while its
// superseding file was damaged.
func (r *Repository) checkNewPacks(ctx context.Context, packs map[core.ID]int) error {
	r.idxMu.Lock()
	var unknown []core.ID
	if r.present != nil {
		for p := range packs {
			_, ok := r.present[p]
			_, gone := r.missing[p]
			if !ok && !gone {
				unknown = append(unknown, p)
			}
		}
	}
	r.idxMu.Unlock()
	lost := map[core.ID]int{}
	for _, p := range unknown {
		_, err := r.store.Stat(ctx, PackName(p))
		switch {
		case err == nil:
			r.idxMu.Lock()
			r.present[p] = struct{}{}
			r.idxMu.Unlock()
		case errors.Is(err, blob.ErrNotFound):
			lost[p] = packs[p]
		default:
			return fmt.Errorf("check pack %s: %w", p.Short(), err)
		}
	}
	r.markMissing(lost)
	return nil
}

// MarkMissing records that a pack the index lists is not in the store, as
// a reader finds out when a read of it fails with blob.ErrNotFound.
func (r *Repository) MarkMissing(pack core.ID) {
	if !r.Missing(pack) {
		r.markMissing(map[core.ID]int{pack: -1})
	}
}

// markMissing hides lost packs from lookups and warns about each once. The
// map holds how many blobs each held, or -1 when that is not at hand.
func (r *Repository) markMissing(lost map[core.ID]int) {
	if len(lost) == 0 {
		return
	}
	set := make(map[core.ID]struct{}, len(lost))
	r.idxMu.Lock()
	for p := range lost {
		set[p] = struct{}{}
		r.missing[p] = struct{}{}
		delete(r.present, p)
	}
	r.idxMu.Unlock()
	r.idx.ExcludePacks(set)
	for p, n := range lost {
		blobs := "its blobs are"
		if n >= 0 {
			blobs = fmt.Sprintf("its %d blobs are", n)
		}
		r.Warn(fmt.Errorf("pack %s is listed in the index but missing from the store: %s lost unless stored elsewhere; "+
			"backups store again what they still read, 'cairn repo check' names the snapshots and files affected and 'cairn repo repair' rewrites them",
			p.Short(), blobs))
	}
}

// Missing reports whether a pack the index lists was found missing.
func (r *Repository) Missing(pack core.ID) bool {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	_, ok := r.missing[pack]
	return ok
}

// IndexFromHeaders reads the headers of stored packs that no loaded index
// file lists and adds them to the index in memory. LoadIndex calls it when
// an index file was damaged: the packs that file listed are among them.
// Packs marked for deletion are included, as a prune may still rescue
// them; HasUsable keeps writers from deduplicating against them.
func (r *Repository) IndexFromHeaders(ctx context.Context) error {
	packs, err := r.ListPacks(ctx)
	if err != nil {
		return err
	}
	known := r.KnownPacks()
	for _, p := range packs {
		if _, ok := known[p.ID]; ok {
			continue
		}
		blobs, err := r.ReadPackHeader(ctx, p.ID, p.Size)
		if err != nil {
			r.Warn(fmt.Errorf("index from pack headers: %w; 'cairn repo check --read-data' says what it held", err))
			continue
		}
		if err := r.idx.AddPack(p.ID, blobs); err != nil {
			r.Warn(fmt.Errorf("index pack %s from its header: %w", p.ID.Short(), err))
			continue
		}
		r.idxMu.Lock()
		r.headerPacks[p.ID] = blobs
		r.idxMu.Unlock()
	}
	return nil
}
