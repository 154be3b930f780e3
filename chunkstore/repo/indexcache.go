package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
)

// IndexCacheVersion is the version of the local index cache (FORMAT.md,
// "Index cache"). A cache of another version is rebuilt.
const IndexCacheVersion = 1

// DefaultMaxMemory is the memory budget when none is given: what the index
// cache may use to sort while it builds, and what the bounded walks of
// check, prune and restore plan within. 256 MiB leaves room under a
// 512 MiB container limit for the pipeline's buffers.
const DefaultMaxMemory = 256 << 20

// defaultMergeAt is how many entries of index files that the cache does not
// hold yet a process keeps in memory before it merges them into a new
// segment in the background: 1M entries is about 48 MB of delta.
const defaultMergeAt = 1 << 20

const manifestName = "manifest.json"

// feedConcurrency bounds the index files decoded at once while a segment
// is built.
const feedConcurrency = 4

// cacheManifest names the segment that holds the index and the index
// files it was built from.
type cacheManifest struct {
	Version    int               `json:"version"`
	Repository core.ID           `json:"repository"`
	Segment    index.SegmentInfo `json:"segment"`
	// Files are the index files whose entries the segment holds;
	// Superseded are listed files it leaves out because another file
	// supersedes them.
	Files      []core.ID `json:"files"`
	Superseded []core.ID `json:"superseded,omitempty"`
}

// indexCache is the repository's handle on its local cache directory.
type indexCache struct {
	dir     string
	memory  int64
	mergeAt int
	wg      sync.WaitGroup // background merges
	mu      sync.Mutex
	err     error // of the last background merge
	// merges is the context of background merges, which Close cancels:
	// a short-lived process does not wait for one, and the cache stays as
	// it was (FORMAT.md §12).
	merges context.Context
	stop   context.CancelFunc
}

func newIndexCache(root string, repoID core.ID, opts Options) *indexCache {
	if root == "" {
		return nil
	}
	c := &indexCache{dir: filepath.Join(root, repoID.String()), memory: opts.MaxMemory, mergeAt: opts.IndexMergeAt}
	c.merges, c.stop = context.WithCancel(context.Background())
	if c.memory <= 0 {
		c.memory = DefaultMaxMemory
	}
	if c.mergeAt <= 0 {
		c.mergeAt = defaultMergeAt
	}
	return c
}

func (c *indexCache) readManifest(repoID core.ID) (*cacheManifest, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m cacheManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("index cache manifest: %w", err)
	}
	if m.Version != IndexCacheVersion || m.Repository != repoID {
		return nil, fmt.Errorf("index cache manifest: version %d of repository %s, want %d of %s",
			m.Version, m.Repository.Short(), IndexCacheVersion, repoID.Short())
	}
	return &m, nil
}

// writeManifest replaces the manifest atomically, then removes segment
// files it no longer names. Caller holds the build lock.
func (c *indexCache) writeManifest(m *cacheManifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, ".tmp-"+manifestName)
	if err := writeSynced(tmp, b); err != nil {
		return fmt.Errorf("index cache: write manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, manifestName)); err != nil {
		return fmt.Errorf("index cache: write manifest: %w", err)
	}
	c.removeOtherSegments(m.Segment.Name)
	return nil
}

func writeSynced(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// removeOtherSegments deletes segments other than keep. A process that
// still has one open keeps reading it: its files stay until it closes
// them. Errors are ignored; the next build tries again.
func (c *indexCache) removeOtherSegments(keep string) {
	names, _ := filepath.Glob(filepath.Join(c.dir, "seg-*"))
	for _, n := range names {
		if !strings.HasPrefix(filepath.Base(n), keep+".") {
			os.Remove(n)
		}
	}
}

// stale reports why the manifest does not describe the listed index
// files, or "" if it does. newFiles are the listed files it does not name.
func (m *cacheManifest) stale(listed []core.ID, loaded []loadedFile) string {
	have := make(map[core.ID]struct{}, len(listed))
	for _, id := range listed {
		have[id] = struct{}{}
	}
	covered := make(map[core.ID]struct{}, len(m.Files))
	for _, id := range m.Files {
		if _, ok := have[id]; !ok {
			return "index file " + id.Short() + " is gone"
		}
		covered[id] = struct{}{}
	}
	for _, f := range loaded {
		if f.file == nil {
			continue
		}
		for _, s := range f.file.Supersedes {
			if _, ok := covered[s]; ok {
				return "index file " + f.id.Short() + " supersedes cached ones"
			}
		}
	}
	return ""
}

// newFiles returns the listed files the manifest names in neither list.
func (m *cacheManifest) newFiles(listed []core.ID) []core.ID {
	known := make(map[core.ID]struct{}, len(m.Files)+len(m.Superseded))
	for _, id := range m.Files {
		known[id] = struct{}{}
	}
	for _, id := range m.Superseded {
		known[id] = struct{}{}
	}
	var out []core.ID
	for _, id := range listed {
		if _, ok := known[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// openIndexCache puts the cached segment under the index, rebuilding the
// cache first if it is missing or stale, and returns the listed index
// files the segment does not hold, already loaded. The cache is only a
// cache: any problem with it costs a rebuild, never an error, unless the
// rebuild itself fails.
func (r *Repository) openIndexCache(ctx context.Context, listed []core.ID) ([]loadedFile, error) {
	c := r.cache
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("index cache %s: %w", c.dir, err)
	}
	for attempt := 0; ; attempt++ {
		m, rest, why, err := r.tryIndexCache(ctx, listed)
		if err != nil {
			return nil, err
		}
		if why == "" && attempt == 0 && entriesOf(rest) >= syncMergeFactor*c.mergeAt {
			// Too many to keep beside the segment: merge them first, and
			// use the merged segment.
			err := r.mergeIndexCache(ctx, m, idsOf(rest))
			if err == nil {
				continue
			}
			if ctx.Err() != nil {
				return nil, err
			}
			r.Warn(fmt.Errorf("index cache %s: merge: %w; the index files it does not hold stay in memory", c.dir, err))
		}
		if why == "" {
			err := r.useSegment(m)
			if err == nil {
				return rest, r.holdAll(ctx, rest)
			}
			why = err.Error()
		}
		if attempt > 0 {
			return nil, fmt.Errorf("index cache %s: rebuilt, yet %s", c.dir, why)
		}
		if err := r.rebuildIndexCache(ctx, listed); err != nil {
			return nil, err
		}
	}
}

// tryIndexCache reads the manifest and the files it does not name. why
// says what makes the cache unusable, "" if nothing.
func (r *Repository) tryIndexCache(ctx context.Context, listed []core.ID) (*cacheManifest, []loadedFile, string, error) {
	m, err := r.cache.readManifest(r.cfg.ID)
	if err != nil {
		return nil, nil, "no usable manifest", nil
	}
	rest, err := r.loadNewIndexFiles(ctx, m.newFiles(listed), syncMergeFactor*r.cache.mergeAt)
	if err != nil {
		return nil, nil, "", err
	}
	return m, rest, m.stale(listed, rest), nil
}

// loadNewIndexFiles loads the index files the cache does not hold, a few
// at a time. Once they hold limit entries, they are going to be merged
// into the cache or the cache rebuilt, both of which read them again, so
// from then on each keeps only what staleness needs (its Supersedes) and
// its entry count: right after a prune, every index file is new, and
// holding them all would cost memory in proportion to the repository.
func (r *Repository) loadNewIndexFiles(ctx context.Context, ids []core.ID, limit int) ([]loadedFile, error) {
	out := make([]loadedFile, len(ids))
	var mu sync.Mutex
	held, dropping := 0, false
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(feedConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			lf, err := r.loadOneIndexFile(gctx, id)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			held += lf.entries
			out[i] = lf
			switch {
			case dropping:
				dropBlobs(&out[i])
			case held >= limit:
				dropping = true
				for j := range out {
					dropBlobs(&out[j])
				}
			}
			return nil
		})
	}
	return out, g.Wait()
}

// dropBlobs lets go of a loaded file's blobs, keeping its Supersedes.
func dropBlobs(f *loadedFile) {
	if f.file == nil || f.dropped {
		return
	}
	f.file = &index.File{Supersedes: f.file.Supersedes}
	f.dropped = true
}

// holdAll loads again, whole, the files whose blobs were dropped.
func (r *Repository) holdAll(ctx context.Context, files []loadedFile) error {
	for i := range files {
		if !files[i].dropped {
			continue
		}
		lf, err := r.loadOneIndexFile(ctx, files[i].id)
		if err != nil {
			return err
		}
		files[i] = lf
	}
	return nil
}

// useSegment opens the manifest's segment under the index and records
// the files it holds as loaded.
func (r *Repository) useSegment(m *cacheManifest) error {
	seg, err := index.OpenSegment(r.cache.dir, m.Segment)
	if err != nil {
		return err
	}
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	r.idx.SetBase(seg)
	r.cacheManifest = m
	for _, id := range m.Files {
		r.loadedIndex[id] = struct{}{}
	}
	for _, id := range m.Superseded {
		r.supersededIndex[id] = struct{}{}
	}
	return nil
}

// rebuildIndexCache builds a segment from every listed index file,
// streamed through an external sort within the memory budget, and writes
// the manifest. Damaged files are left out (LoadIndex deals with them).
func (r *Repository) rebuildIndexCache(ctx context.Context, listed []core.ID) error {
	c := r.cache
	unlock, err := lockCache(c.dir, true)
	if err != nil {
		return err
	}
	defer unlock()
	if err := index.RemoveSegmentLeftovers(c.dir); err != nil {
		return fmt.Errorf("index cache %s: %w", c.dir, err)
	}
	b, err := index.NewSegmentBuilder(index.SegmentConfig{Dir: c.dir, Memory: c.memory / 2})
	if err != nil {
		return err
	}
	defer b.Close()
	fed, err := r.feedIndexFiles(ctx, b, listed)
	if err != nil {
		return err
	}
	info, err := b.Finish(ctx, func(tag uint32) bool { return fed.keep[tag] })
	if err != nil {
		return fmt.Errorf("index cache %s: %w", c.dir, err)
	}
	m := &cacheManifest{Version: IndexCacheVersion, Repository: r.cfg.ID, Segment: info}
	for i, id := range listed {
		switch {
		case fed.keep[uint32(i)]:
			m.Files = append(m.Files, id)
		case fed.superseded[id]:
			m.Superseded = append(m.Superseded, id)
		}
	}
	return c.writeManifest(m)
}

type fedFiles struct {
	keep       map[uint32]bool // tag (position in the listing) -> entries kept
	superseded map[core.ID]bool
}

// feedIndexFiles streams index files into b, a few at a time, each tagged
// with its position in ids. A file found superseded by another is dropped
// when the segment is written.
func (r *Repository) feedIndexFiles(ctx context.Context, b *index.SegmentBuilder, ids []core.ID) (*fedFiles, error) {
	fed := &fedFiles{keep: map[uint32]bool{}, superseded: map[core.ID]bool{}}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	// Fewer than LoadIndex: a file prune wrote holds up to 256Ki blobs,
	// about 35 MB while it is decrypted and decoded.
	g.SetLimit(feedConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			f, err := r.LoadIndexFile(gctx, id)
			if err != nil {
				if isDamage(err) || errors.Is(err, blob.ErrNotFound) {
					return nil // LoadIndex warns about damage when it loads the file
				}
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range f.Packs {
				if err := b.AddPack(uint32(i), p.ID, p.Blobs); err != nil {
					return fmt.Errorf("index cache: index file %s: %w", id.Short(), err)
				}
			}
			fed.keep[uint32(i)] = true
			for _, s := range f.Supersedes {
				fed.superseded[s] = true
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, id := range ids {
		if fed.superseded[id] {
			delete(fed.keep, uint32(i))
		}
	}
	return fed, nil
}

// syncMergeFactor: past this many times the merge threshold, files the
// cache does not hold are merged before the index is used, so the delta
// in memory stays bounded even when no process lives long enough to
// finish a background merge.
const syncMergeFactor = 4

func entriesOf(files []loadedFile) int {
	n := 0
	for _, f := range files {
		if f.file != nil && f.err == nil {
			n += f.entries
		}
	}
	return n
}

func idsOf(files []loadedFile) []core.ID {
	var ids []core.ID
	for _, f := range files {
		if f.file != nil && f.err == nil {
			ids = append(ids, f.id)
		}
	}
	return ids
}

// maybeMerge starts a background merge of the base segment and the index
// files loaded beside it, once these hold enough entries. The merged
// segment serves the next process; this one keeps what it has.
func (r *Repository) maybeMerge(rest []loadedFile) {
	if entriesOf(rest) < r.cache.mergeAt {
		return
	}
	base, ids := r.cacheManifest, idsOf(rest)
	r.cache.wg.Add(1)
	go func() {
		defer r.cache.wg.Done()
		err := r.mergeIndexCache(r.cache.merges, base, ids)
		r.cache.mu.Lock()
		r.cache.err = err
		r.cache.mu.Unlock()
	}()
}

// mergeIndexCache writes a segment holding base's entries and those of
// files, and a manifest naming it. Another process merging at the same
// time wins; this one then does nothing.
func (r *Repository) mergeIndexCache(ctx context.Context, base *cacheManifest, files []core.ID) error {
	c := r.cache
	unlock, err := lockCache(c.dir, false)
	if err != nil || unlock == nil {
		return err
	}
	defer unlock()
	if now, err := c.readManifest(r.cfg.ID); err != nil || now.Segment.Name != base.Segment.Name {
		return nil // rebuilt or merged by another process meanwhile
	}
	if err := index.RemoveSegmentLeftovers(c.dir); err != nil {
		return err
	}
	seg, err := index.OpenSegment(c.dir, base.Segment)
	if err != nil {
		return err
	}
	defer seg.Close()
	b, err := index.NewSegmentBuilder(index.SegmentConfig{Dir: c.dir, Memory: c.memory / 2})
	if err != nil {
		return err
	}
	defer b.Close()
	if err := feedSegment(ctx, b, seg); err != nil {
		return err
	}
	fed, err := r.feedIndexFiles(ctx, b, files)
	if err != nil {
		return err
	}
	// A file another file of the batch supersedes (a prune's rewrite
	// read back by the next process) leaves its entries out, as a
	// rebuild would: they name packs that prune deleted.
	info, err := b.Finish(ctx, func(tag uint32) bool { return tag == baseTag || fed.keep[tag] })
	if err != nil {
		return err
	}
	m := &cacheManifest{Version: IndexCacheVersion, Repository: r.cfg.ID, Segment: info,
		Files: slices.Clone(base.Files), Superseded: slices.Clone(base.Superseded)}
	for i, id := range files {
		switch {
		case fed.keep[uint32(i)]:
			m.Files = append(m.Files, id)
		case fed.superseded[id]:
			m.Superseded = append(m.Superseded, id)
		}
	}
	if mergeHook != nil {
		if err := mergeHook(); err != nil {
			return err
		}
	}
	return c.writeManifest(m)
}

// mergeHook, when set by a test, runs between writing the merged segment
// and the manifest that names it, where a kill hurts most; an error stops
// the merge there as a kill would.
var mergeHook func() error

// baseTag tags the entries a merge copies from the base segment; index
// files are tagged by their position in the batch, which never reaches it.
const baseTag = math.MaxUint32

// feedSegment adds every entry of seg to b, one pack run at a time.
func feedSegment(ctx context.Context, b *index.SegmentBuilder, seg *index.Segment) error {
	var addErr error
	n := 0
	err := seg.EachRecord(func(pack core.ID, blob index.Blob) bool {
		if n++; n%65536 == 0 && ctx.Err() != nil {
			addErr = ctx.Err()
			return false
		}
		addErr = b.AddPack(baseTag, pack, []index.Blob{blob})
		return addErr == nil
	})
	if addErr != nil {
		return addErr
	}
	return err
}

// WaitIndexCache waits for background merges of the index cache and
// returns the error of the last one. Close cancels them first.
func (r *Repository) WaitIndexCache() error {
	if r.cache == nil {
		return nil
	}
	r.cache.wg.Wait()
	r.cache.mu.Lock()
	defer r.cache.mu.Unlock()
	return r.cache.err
}

// IndexCached reports whether the index is read through the local cache.
func (r *Repository) IndexCached() bool { return r.cache != nil }
