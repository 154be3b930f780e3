package pruner

import (
	"context"
	"fmt"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/internal/idset"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// mark dooms unreferenced packs, repacks mostly-unreferenced ones, and
// writes the deletion marker.
func (p *pruner) mark(ctx context.Context, saver *repo.Saver) error {
	used, err := p.referenced(ctx)
	if err != nil {
		return err
	}
	full, err := p.fullIndex(ctx)
	if err != nil {
		return err
	}
	doomed, err := p.classify(ctx, saver, full.Index, used)
	if err != nil {
		return err
	}
	if err := saver.Flush(ctx); err != nil {
		return err
	}
	stale, err := p.staleUnindexed(ctx, full.Index)
	if err != nil {
		return err
	}
	doomed = append(doomed, stale...)
	p.res.PacksMarked = len(doomed)
	if len(doomed) == 0 || p.opts.DryRun {
		return nil
	}
	m := repo.DeletionMarker{Created: p.r.Clock().Now().UnixNano(), Packs: doomed}
	if _, err := p.r.SaveJSON(ctx, repo.KindPending, m); err != nil {
		return fmt.Errorf("prune: write deletion marker: %w", err)
	}
	p.r.ExcludeMore(doomed)
	return nil
}

// fullIndex is every live index entry, with no pack hidden. With the index
// cache it is the repository's own index, read from the cache; without,
// a fresh in-memory copy.
func (p *pruner) fullIndex(ctx context.Context) (*repo.FullIndex, error) {
	if !p.r.IndexCached() {
		return p.r.LoadFullIndex(ctx)
	}
	if err := p.r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	files := append(p.r.LoadedIndexFiles(), p.r.SupersededIndexFiles()...)
	return &repo.FullIndex{Index: p.r.Index(), Files: files}, nil
}

// classify walks the index pack by pack, in pack order, and returns the
// packs to doom: those with no referenced blob, and those at least
// RepackRatio unreferenced, whose live blobs it repacks on the way (not in
// a dry run). Only one pack's blobs are held at a time.
func (p *pruner) classify(ctx context.Context, saver *repo.Saver, full *index.Index, used *idset.Set) ([]core.ID, error) {
	var doomed []core.ID
	var err error
	walkErr := full.EachPackSorted(func(pk core.ID, blobs []index.Blob) bool {
		if p.r.Excluded(pk) || p.r.Missing(pk) {
			return true
		}
		var live, dead int64
		if live, dead, err = liveBytes(blobs, used); err != nil {
			return false
		}
		switch {
		case live == 0:
			doomed = append(doomed, pk)
		case float64(dead) >= p.opts.RepackRatio*float64(live+dead) && !p.opts.DryRun:
			if err = p.repack(ctx, saver, pk, blobs, used); err != nil {
				return false
			}
			doomed = append(doomed, pk)
		}
		return ctx.Err() == nil
	})
	switch {
	case err != nil:
		return nil, err
	case walkErr != nil:
		return nil, fmt.Errorf("prune: read the index cache: %w", walkErr)
	}
	return doomed, ctx.Err()
}

// liveBytes sums the stored bytes of a pack's referenced and unreferenced
// blobs.
func liveBytes(blobs []index.Blob, used *idset.Set) (live, dead int64, err error) {
	for _, b := range blobs {
		in, err := used.Has(b.ID)
		if err != nil {
			return 0, 0, fmt.Errorf("prune: %w", err)
		}
		if in {
			live += int64(b.Length)
		} else {
			dead += int64(b.Length)
		}
	}
	return live, dead, nil
}

// repack copies the referenced blobs of a partly used pack into new packs.
// They are loaded before the pack is hidden (it may hold their only copy),
// then saved: with the old pack hidden, the Saver stores them again unless
// another pack already has them.
func (p *pruner) repack(ctx context.Context, saver *repo.Saver, pk core.ID, blobs []index.Blob, used *idset.Set) error {
	type live struct {
		b     index.Blob
		plain []byte
	}
	var keep []live
	for _, b := range blobs {
		if in, err := used.Has(b.ID); err != nil || !in {
			if err != nil {
				return fmt.Errorf("prune: %w", err)
			}
			continue
		}
		plain, err := p.r.LoadBlob(ctx, b.Type, b.ID, nil)
		if err != nil {
			return fmt.Errorf("prune: repack pack %s: %w", pk.Short(), err)
		}
		keep = append(keep, live{b, plain})
	}
	p.r.ExcludeMore([]core.ID{pk})
	for _, l := range keep {
		if _, err := saver.Save(l.b.Type, l.b.ID, l.plain); err != nil {
			return fmt.Errorf("prune: repack pack %s: %w", pk.Short(), err)
		}
	}
	p.res.PacksRepacked++
	return nil
}

// staleUnindexed returns packs no index lists that are older than the grace
// period: leftovers of writers that died.
func (p *pruner) staleUnindexed(ctx context.Context, full *index.Index) ([]core.ID, error) {
	cutoff := p.r.Clock().Now().Add(-p.opts.Grace)
	var out []core.ID
	err := p.r.JoinPacks(ctx, full, func(id core.ID, stored *repo.PackInfo, blobs []index.Blob) error {
		if stored != nil && blobs == nil && !p.r.Excluded(id) && stored.ModTime.Before(cutoff) {
			out = append(out, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	return out, nil
}
