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
	"github.com/cairnbackup/cairn/chunkstore/internal/idset"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// indexFilePacks and indexFileBlobs bound a rewritten index file (about
// 12 MiB at 256Ki blobs), so neither a file nor the memory that writes it
// grows with the repository, whatever the blobs per pack.
const (
	indexFilePacks = 16384
	indexFileBlobs = 1 << 18
)

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
	full, err := p.fullIndex(ctx)
	if err != nil {
		return err
	}
	var ids []core.ID
	for _, m := range eligible {
		ids = append(ids, m.Marker.Packs...)
	}
	doomed := newPackSet(ids)
	if err := p.rescue(full.Index, used, doomed); err != nil {
		return err
	}
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
func (p *pruner) rescue(full *index.Index, used *idset.Set, doomed *packSet) error {
	var err error
	walkErr := full.EachPackSorted(func(pk core.ID, blobs []index.Blob) bool {
		if !doomed.has(pk) {
			return true
		}
		for _, b := range blobs {
			var in bool
			if in, err = used.Has(b.ID); err != nil {
				return false
			}
			if in && !p.elsewhere(full, b.ID, doomed) {
				doomed.keep(pk)
				p.res.PacksRescued++
				break
			}
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if walkErr != nil {
		return fmt.Errorf("prune: read the index cache: %w", walkErr)
	}
	return nil
}

// elsewhere reports whether a blob has a copy outside the doomed packs. A
// copy in a lost pack does not count.
func (p *pruner) elsewhere(full *index.Index, id core.ID, doomed *packSet) bool {
	for _, loc := range full.LookupAll(id) {
		if !doomed.has(loc.Pack) && !p.r.Missing(loc.Pack) {
			return true
		}
	}
	return false
}

// rewriteIndex writes index files for every surviving pack, then one empty
// file that supersedes all the old ones. A crash before the last write
// leaves duplicates, never a gap. Packs come in ID order, each once, so
// only one file's worth is held at a time.
func (p *pruner) rewriteIndex(ctx context.Context, full *repo.FullIndex, doomed *packSet) error {
	var f index.File
	var err error
	nblobs := 0
	walkErr := full.Index.EachPackSorted(func(pk core.ID, blobs []index.Blob) bool {
		if doomed.has(pk) || p.r.Missing(pk) {
			return true // deleted now, or lost before
		}
		f.Packs = append(f.Packs, index.PackEntry{ID: pk, Blobs: slices.Clone(blobs)})
		if nblobs += len(blobs); len(f.Packs) == indexFilePacks || nblobs >= indexFileBlobs {
			_, err = p.r.SaveIndexFile(ctx, &f)
			f, nblobs = index.File{}, 0
		}
		return err == nil
	})
	if err == nil && walkErr != nil {
		err = fmt.Errorf("read the index cache: %w", walkErr)
	}
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

// deletePacks deletes the doomed packs, walking the store's listing for
// their sizes. A doomed pack already gone (an earlier prune was killed
// after deleting it) counts as deleted.
func (p *pruner) deletePacks(ctx context.Context, doomed *packSet) error {
	list, err := p.r.SortedPacks(ctx)
	if err != nil {
		return err
	}
	defer list.Close()
	for {
		pk, ok, err := list.Next()
		if err != nil || !ok {
			p.res.PacksDeleted = doomed.len()
			return err
		}
		if !doomed.has(pk.ID) {
			continue
		}
		err = p.r.Store().Delete(ctx, repo.PackName(pk.ID))
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			return fmt.Errorf("prune: delete pack %s: %w", pk.ID.Short(), err)
		}
		p.res.BytesDeleted += pk.Size
	}
}

// packSet is a set of pack IDs as a sorted slice, 32 bytes a pack, with
// the packs rescued from it aside.
type packSet struct {
	ids  []core.ID
	kept map[core.ID]struct{}
}

func newPackSet(ids []core.ID) *packSet {
	s := slices.Clone(ids)
	slices.SortFunc(s, compareIDs)
	return &packSet{ids: slices.Compact(s), kept: map[core.ID]struct{}{}}
}

func (s *packSet) has(id core.ID) bool {
	if _, ok := s.kept[id]; ok {
		return false
	}
	_, found := slices.BinarySearchFunc(s.ids, id, compareIDs)
	return found
}

func (s *packSet) keep(id core.ID) { s.kept[id] = struct{}{} }

func (s *packSet) len() int { return len(s.ids) - len(s.kept) }
