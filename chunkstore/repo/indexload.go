package repo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/blob"
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
//
// A damaged index file costs only what it held: it is skipped with a
// warning, and the packs no readable index file lists are indexed from
// their own headers, in memory (writers also write index files for them,
// see AdoptUnindexed). Once VerifyPacks has run, packs named by newly
// loaded files are checked against the store too.
func (r *Repository) LoadIndex(ctx context.Context) error {
	ids, err := r.ListFiles(ctx, KindIndex)
	if err != nil {
		return err
	}
	var files []loadedFile
	if r.cache != nil && r.idx.Base() == nil {
		files, err = r.openIndexCache(ctx, ids)
		if err == nil {
			r.maybeMerge(files)
		} else if ctx.Err() == nil {
			// The cache is only a cache: without it the index is loaded
			// into memory as before.
			r.Warn(fmt.Errorf("index cache unusable, loading the index into memory instead: %w", err))
			files, err = r.loadIndexFiles(ctx, r.newIndexIDs(ids))
		}
	} else {
		files, err = r.loadIndexFiles(ctx, r.newIndexIDs(ids))
	}
	if err != nil {
		return err
	}
	added, err := r.addIndexFiles(files)
	if err != nil {
		return err
	}
	if err := r.loadExclusions(ctx); err != nil {
		return err
	}
	if err := r.checkNewPacks(ctx, added); err != nil {
		return err
	}
	if r.indexDamaged() {
		return r.IndexFromHeaders(ctx)
	}
	return nil
}

// addIndexFiles adds the files no other file supersedes to the index and
// returns the packs they name, with the number of blobs of each.
func (r *Repository) addIndexFiles(files []loadedFile) (map[core.ID]int, error) {
	superseded := map[core.ID]struct{}{}
	for _, f := range files {
		if f.file != nil {
			for _, s := range f.file.Supersedes {
				superseded[s] = struct{}{}
			}
		}
	}
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	packs := map[core.ID]int{}
	for _, f := range files {
		if f.err != nil {
			r.damagedIndex[f.id] = f.err
			r.Warn(fmt.Errorf("index file %s is damaged and skipped (%w); the packs it listed are indexed from their own headers "+
				"meanwhile; run 'cairn repo repair --apply' to rebuild the index", fileName(KindIndex, f.id), f.err))
			continue
		}
		if _, ok := superseded[f.id]; ok {
			r.supersededIndex[f.id] = struct{}{}
			continue
		}
		if err := r.idx.AddFile(f.file); err != nil {
			return nil, fmt.Errorf("load index %s: %w", f.id.Short(), err)
		}
		r.loadedIndex[f.id] = struct{}{}
		for _, p := range f.file.Packs {
			packs[p.ID] += len(p.Blobs)
		}
	}
	return packs, nil
}

func (r *Repository) newIndexIDs(ids []core.ID) []core.ID {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	var out []core.ID
	for _, id := range ids {
		_, loaded := r.loadedIndex[id]
		_, damaged := r.damagedIndex[id]
		_, superseded := r.supersededIndex[id]
		if !loaded && !damaged && !superseded {
			out = append(out, id)
		}
	}
	return out
}

type loadedFile struct {
	id   core.ID
	file *index.File
	err  error // set, with file nil, when the file is damaged
	// dropped is set when file keeps only its Supersedes, its blobs
	// (entries of them) let go to bound memory (loadNewIndexFiles).
	dropped bool
	entries int
}

// loadIndexFiles fetches index files in parallel. Damage is recorded per
// file; only a store that cannot deliver fails the load.
func (r *Repository) loadIndexFiles(ctx context.Context, ids []core.ID) ([]loadedFile, error) {
	out := make([]loadedFile, len(ids))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(loadConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			lf, err := r.loadOneIndexFile(ctx, id)
			out[i] = lf
			return err
		})
	}
	return out, g.Wait()
}

// loadOneIndexFile loads one index file and counts its entries. Damage
// is recorded in the result; only a store that cannot deliver is an error.
func (r *Repository) loadOneIndexFile(ctx context.Context, id core.ID) (loadedFile, error) {
	f, err := r.LoadIndexFile(ctx, id)
	if errors.Is(err, blob.ErrNotFound) {
		// Superseded and removed by a prune since the listing; the file
		// that superseded it is in the listing too.
		f, err = &index.File{}, nil
	}
	if err != nil && !isDamage(err) {
		return loadedFile{}, err
	}
	lf := loadedFile{id: id, file: f, err: err}
	if f != nil {
		for _, p := range f.Packs {
			lf.entries += len(p.Blobs)
		}
	}
	return lf, nil
}

// LoadIndexFile loads and decodes one index file.
func (r *Repository) LoadIndexFile(ctx context.Context, id core.ID) (*index.File, error) {
	b, err := r.LoadFile(ctx, KindIndex, id)
	if err != nil {
		return nil, err
	}
	f, err := index.DecodeFile(b)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w: %w", id.Short(), ErrCorrupt, err)
	}
	return f, nil
}

// DamagedIndexFiles returns the index files LoadIndex skipped as damaged.
func (r *Repository) DamagedIndexFiles() map[core.ID]error {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	return maps.Clone(r.damagedIndex)
}

func (r *Repository) indexDamaged() bool {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	return len(r.damagedIndex) > 0
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

// SupersededIndexFiles returns the listed index files left out because
// another file supersedes them.
func (r *Repository) SupersededIndexFiles() []core.ID {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	return slices.Collect(maps.Keys(r.supersededIndex))
}

// loadExclusions records packs that a prune has marked for deletion, so
// new snapshots never come to depend on them. Readers still use them.
func (r *Repository) loadExclusions(ctx context.Context) error {
	markers, err := r.LoadDeletionMarkers(ctx)
	if err != nil {
		return err
	}
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
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
// files it accounts for: those it was read from and the listed ones they
// supersede. Prune works from it: it must see packs pending deletion to
// rescue or drop them, and the file that replaces the index supersedes all
// of Files, so that none of them, a superseded one included, comes back
// once the file that superseded it is removed.
type FullIndex struct {
	Index *index.Index
	Files []core.ID
}

// LoadFullIndex reads all index files that are not superseded into a new
// index without exclusions. Damaged files are left out (LoadIndex warned
// about them); the packs indexed from their headers instead are put in.
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
		if f.file != nil {
			for _, s := range f.file.Supersedes {
				superseded[s] = struct{}{}
			}
		}
	}
	full := &FullIndex{Index: index.New()}
	for _, f := range files {
		if _, ok := superseded[f.id]; ok {
			full.Files = append(full.Files, f.id)
			continue
		}
		if f.err != nil {
			continue
		}
		if err := full.Index.AddFile(f.file); err != nil {
			return nil, fmt.Errorf("load index %s: %w", f.id.Short(), err)
		}
		full.Files = append(full.Files, f.id)
	}
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	for p, blobs := range r.headerPacks {
		if err := full.Index.AddPack(p, blobs); err != nil {
			return nil, fmt.Errorf("index pack %s from its header: %w", p.Short(), err)
		}
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
	if r.lazyPacks() {
		return r.hasVerified(id)
	}
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
