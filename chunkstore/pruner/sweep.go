package pruner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// indexFilePacks bounds the packs per rewritten index file, so no index
// file grows past a few tens of MiB however large the repository.
const indexFilePacks = 16384

// sweep deletes the packs of every marker no live session could have missed.
func (p *pruner) sweep(ctx context.Context) error {
	eligible, err := p.eligibleMarkers(ctx)
	if err != nil || len(eligible) == 0 {
		return err
	}
	used, err := p.referenced(ctx)
	if err != nil {
		return err
	}
	full, err := p.r.LoadFullIndex(ctx)
	if err != nil {
		return err
	}
	doomed := map[core.ID]struct{}{}
	for _, m := range eligible {
		for _, pk := range m.Marker.Packs {
			doomed[pk] = struct{}{}
		}
	}
	p.rescue(full.Index, used, doomed)
	if err := p.rewriteIndex(ctx, full, doomed); err != nil {
		return err
	}
	if err := p.deletePacks(ctx, doomed); err != nil {
		return err
	}
	for _, id := range full.Files {
		if err := p.r.DeleteFile(ctx, repo.KindIndex, id); err != nil {
			return err
		}
	}
	for _, m := range eligible {
		if err := p.r.DeleteFile(ctx, repo.KindPending, m.ID); err != nil {
			return err
		}
	}
	return nil
}

// eligibleMarkers returns the markers that every live session has seen: no
// live session (other than this prune's) started before the marker was
// created, plus the skew margin.
func (p *pruner) eligibleMarkers(ctx context.Context) ([]repo.StoredMarker, error) {
	markers, err := p.r.LoadDeletionMarkers(ctx)
	if err != nil {
		return nil, err
	}
	sessions, err := p.r.Sessions(ctx)
	if err != nil {
		return nil, err
	}
	var out []repo.StoredMarker
	for _, m := range markers {
		created := time.Unix(0, m.Marker.Created)
		ok := true
		for _, s := range sessions {
			if s.ID == p.sess.ID() || s.Stale {
				continue
			}
			if !time.Unix(0, s.Info.Started).After(created.Add(SkewMargin)) {
				ok = false
			}
		}
		if ok {
			out = append(out, m)
		} else {
			p.res.MarkersPending++
		}
	}
	return out, nil
}

// rescue keeps doomed packs that hold the only copy of a blob some snapshot
// references: a writer that had not seen the marker used it.
func (p *pruner) rescue(full *index.Index, used map[core.ID]struct{}, doomed map[core.ID]struct{}) {
	for pk, blobs := range full.PackBlobs() {
		if _, ok := doomed[pk]; !ok {
			continue
		}
		for _, b := range blobs {
			if _, ok := used[b.ID]; ok && !p.elsewhere(full, b.ID, doomed) {
				delete(doomed, pk)
				p.res.PacksRescued++
				break
			}
		}
	}
}

// elsewhere reports whether a blob has a copy outside the doomed packs. A
// copy in a lost pack does not count.
func (p *pruner) elsewhere(full *index.Index, id core.ID, doomed map[core.ID]struct{}) bool {
	for _, loc := range full.LookupAll(id) {
		if _, ok := doomed[loc.Pack]; !ok && !p.r.Missing(loc.Pack) {
			return true
		}
	}
	return false
}

// rewriteIndex writes index files for every surviving pack, then one empty
// file that supersedes all the old ones. A crash before the last write
// leaves duplicates, never a gap.
func (p *pruner) rewriteIndex(ctx context.Context, full *repo.FullIndex, doomed map[core.ID]struct{}) error {
	var f index.File
	seen := map[core.ID]struct{}{}
	var err error
	full.Index.EachPack(func(pk core.ID, blobs []index.Blob) bool {
		if _, gone := doomed[pk]; gone || p.r.Missing(pk) {
			return true // deleted now, or lost before
		}
		if _, dup := seen[pk]; dup {
			return true
		}
		seen[pk] = struct{}{}
		f.Packs = append(f.Packs, index.PackEntry{ID: pk, Blobs: slices.Clone(blobs)})
		if len(f.Packs) == indexFilePacks {
			_, err = p.r.SaveIndexFile(ctx, &f)
			f = index.File{}
		}
		return err == nil
	})
	if err != nil {
		return fmt.Errorf("prune: write index: %w", err)
	}
	f.Supersedes = full.Files
	if _, err := p.r.SaveIndexFile(ctx, &f); err != nil {
		return fmt.Errorf("prune: write index: %w", err)
	}
	p.res.IndexFilesMerged = len(full.Files)
	return nil
}

func (p *pruner) deletePacks(ctx context.Context, doomed map[core.ID]struct{}) error {
	sizes := map[core.ID]int64{}
	packs, err := p.r.ListPacks(ctx)
	if err != nil {
		return err
	}
	for _, pk := range packs {
		sizes[pk.ID] = pk.Size
	}
	for pk := range doomed {
		err := p.r.Store().Delete(ctx, repo.PackName(pk))
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			return fmt.Errorf("prune: delete pack %s: %w", pk.Short(), err)
		}
		p.res.PacksDeleted++
		p.res.BytesDeleted += sizes[pk]
	}
	return nil
}
