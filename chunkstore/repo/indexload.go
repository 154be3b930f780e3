package repo

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
)

// loadConcurrency bounds parallel index-file fetches: enough to hide S3
// latency, few enough that decoded files do not pile up in memory.
const loadConcurrency = 8

// LoadIndex reads every index file not yet loaded and every deletion marker.
// Files superseded by another file (written by prune) are skipped, so a prune
// that stopped half-way never resurrects deleted packs. It can be called
// again to pick up what concurrent writers added since.
func (r *Repository) LoadIndex(ctx context.Context) error {
	ids, err := r.ListFiles(ctx, KindIndex)
	if err != nil {
		return err
	}
	files, err := r.loadIndexFiles(ctx, r.newIndexIDs(ids))
	if err != nil {
		return err
	}
	superseded := map[core.ID]struct{}{}
	for _, f := range files {
		for _, s := range f.file.Supersedes {
			superseded[s] = struct{}{}
		}
	}
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	for _, f := range files {
		if _, ok := superseded[f.id]; ok {
			continue
		}
		if err := r.idx.AddFile(f.file); err != nil {
			return fmt.Errorf("load index %s: %w", f.id.Short(), err)
		}
		r.loadedIndex[f.id] = struct{}{}
	}
	return r.loadExclusionsLocked(ctx)
}

func (r *Repository) newIndexIDs(ids []core.ID) []core.ID {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	var out []core.ID
	for _, id := range ids {
		if _, ok := r.loadedIndex[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

type loadedFile struct {
	id   core.ID
	file *index.File
}

func (r *Repository) loadIndexFiles(ctx context.Context, ids []core.ID) ([]loadedFile, error) {
	out := make([]loadedFile, len(ids))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(loadConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			f, err := r.LoadIndexFile(ctx, id)
			out[i] = loadedFile{id: id, file: f}
			return err
		})
	}
	return out, g.Wait()
}

// LoadIndexFile loads and decodes one index file.
func (r *Repository) LoadIndexFile(ctx context.Context, id core.ID) (*index.File, error) {
	b, err := r.LoadFile(ctx, KindIndex, id)
	if err != nil {
		return nil, fmt.Errorf("%w; run 'cairn repo check' to see what else is affected", err)
	}
	f, err := index.DecodeFile(b)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w: %w", id.Short(), ErrCorrupt, err)
	}
	return f, nil
}

// SaveIndexFile encodes, seals and stores an index file.
func (r *Repository) SaveIndexFile(ctx context.Context, f *index.File) (core.ID, error) {
	b, err := index.EncodeFile(f)
	if err != nil {
		return core.ID{}, fmt.Errorf("encode index file: %w", err)
	}
	id, err := r.SaveFile(ctx, KindIndex, b)
	if err != nil {
		return id, err
	}
	r.idxMu.Lock()
	r.loadedIndex[id] = struct{}{}
	r.idxMu.Unlock()
	return id, nil
}

// LoadedIndexFiles returns the IDs of the index files in use.
func (r *Repository) LoadedIndexFiles() []core.ID {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	ids := make([]core.ID, 0, len(r.loadedIndex))
	for id := range r.loadedIndex {
		ids = append(ids, id)
	}
	return ids
}

// loadExclusionsLocked records packs that a prune has marked for deletion,
// so new snapshots never come to depend on them. Readers still use them.
func (r *Repository) loadExclusionsLocked(ctx context.Context) error {
	markers, err := r.LoadDeletionMarkers(ctx)
	if err != nil {
		return err
	}
	excluded := map[core.ID]struct{}{}
	for _, m := range markers {
		for _, p := range m.Marker.Packs {
			excluded[p] = struct{}{}
		}
	}
	r.excluded = excluded
	return nil
}

// Excluded reports whether a pack is marked for deletion.
func (r *Repository) Excluded(pack core.ID) bool {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	_, ok := r.excluded[pack]
	return ok
}

// DeletionMarker records packs a prune intends to delete (see FORMAT.md,
// "Prune"). Writers that load it stop deduplicating against those packs.
type DeletionMarker struct {
	Created int64     `json:"created_unix_ns"`
	Packs   []core.ID `json:"packs"`
}

// StoredMarker is a deletion marker and its file ID.
type StoredMarker struct {
	ID     core.ID
	Marker DeletionMarker
}

// LoadDeletionMarkers reads every pending deletion marker.
func (r *Repository) LoadDeletionMarkers(ctx context.Context) ([]StoredMarker, error) {
	ids, err := r.ListFiles(ctx, KindPending)
	if err != nil {
		return nil, err
	}
	out := make([]StoredMarker, len(ids))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(loadConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			var m DeletionMarker
			if err := r.LoadJSON(gctx, KindPending, id, &m); err != nil {
				return err
			}
			mu.Lock()
			out[i] = StoredMarker{ID: id, Marker: m}
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// FullIndex is every live index entry, with no pack hidden, and the index
// files it was read from. Prune works from it: it must see packs pending
// deletion to rescue or drop them.
type FullIndex struct {
	Index *index.Index
	Files []core.ID
}

// LoadFullIndex reads all index files that are not superseded into a new
// index without exclusions.
func (r *Repository) LoadFullIndex(ctx context.Context) (*FullIndex, error) {
	ids, err := r.ListFiles(ctx, KindIndex)
	if err != nil {
		return nil, err
	}
	files, err := r.loadIndexFiles(ctx, ids)
	if err != nil {
		return nil, err
	}
	superseded := map[core.ID]struct{}{}
	for _, f := range files {
		for _, s := range f.file.Supersedes {
			superseded[s] = struct{}{}
		}
	}
	full := &FullIndex{Index: index.New()}
	for _, f := range files {
		if _, ok := superseded[f.id]; ok {
			continue
		}
		if err := full.Index.AddFile(f.file); err != nil {
			return nil, fmt.Errorf("load index %s: %w", f.id.Short(), err)
		}
		full.Files = append(full.Files, f.id)
	}
	return full, nil
}

// ExcludeMore hides more packs from dedup in this process, as a prune does
// right after marking them.
func (r *Repository) ExcludeMore(packs []core.ID) {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	for _, p := range packs {
		r.excluded[p] = struct{}{}
	}
}

// HasUsable reports whether a blob is stored in a pack that is not marked
// for deletion: whether a writer may deduplicate against it.
func (r *Repository) HasUsable(id core.ID) bool {
	r.idxMu.Lock()
	none := len(r.excluded) == 0
	r.idxMu.Unlock()
	if none {
		// The common case, on every chunk: no prune pending, so any copy
		// will do, and Has does not allocate.
		return r.idx.Has(id)
	}
	locs := r.idx.LookupAll(id)
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	for _, l := range locs {
		if _, ok := r.excluded[l.Pack]; !ok {
			return true
		}
	}
	return false
}
