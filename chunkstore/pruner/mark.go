package pruner

import (
	"context"
	"fmt"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// mark dooms unreferenced packs, repacks mostly-unreferenced ones, and
// writes the deletion marker.
func (p *pruner) mark(ctx context.Context, saver *repo.Saver) error {
	used, err := p.referenced(ctx)
	if err != nil {
		return err
	}
	full, err := p.r.LoadFullIndex(ctx)
	if err != nil {
		return err
	}
	u := p.usage(full.Index, used)
	doomed := u.unused
	if !p.opts.DryRun && len(u.partial) > 0 {
		if err := p.repack(ctx, saver, u, used); err != nil {
			return err
		}
		doomed = append(doomed, u.partial...)
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

// repack copies the referenced blobs of partly used packs into new packs.
// Each pack's live blobs are loaded before the pack is hidden (it may hold
// their only copy), then saved: with the old pack hidden, the Saver stores
// them again unless another pack already has them.
func (p *pruner) repack(ctx context.Context, saver *repo.Saver, u packUsage, used map[core.ID]struct{}) error {
	for _, pk := range u.partial {
		type live struct {
			b     index.Blob
			plain []byte
		}
		var keep []live
		for _, b := range u.blobs[pk] {
			if _, ok := used[b.ID]; !ok {
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
	}
	return nil
}

// staleUnindexed returns packs no index lists that are older than the grace
// period: leftovers of writers that died.
func (p *pruner) staleUnindexed(ctx context.Context, full *index.Index) ([]core.ID, error) {
	packs, err := p.r.ListPacks(ctx)
	if err != nil {
		return nil, err
	}
	known := map[core.ID]struct{}{}
	full.EachPack(func(pk core.ID, _ []index.Blob) bool {
		known[pk] = struct{}{}
		return true
	})
	cutoff := p.r.Clock().Now().Add(-p.opts.Grace)
	var out []core.ID
	for _, pk := range packs {
		if _, ok := known[pk.ID]; !ok && !p.r.Excluded(pk.ID) && pk.ModTime.Before(cutoff) {
			out = append(out, pk.ID)
		}
	}
	return out, nil
}
