package checker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// Options select how deep to check.
type Options struct {
	ReadData bool
	// Workers bounds concurrent pack reads; 0 means 8.
	Workers int
	// Progress, if set, receives the bytes read by ReadData.
	Progress func(done, total int64)
}

// Problem is one thing found wrong, naming the object it concerns.
type Problem struct {
	Object  string `json:"object"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Object + ": " + p.Message }

// Damaged is a path of a snapshot that cannot be restored whole.
type Damaged struct {
	Snapshot core.ID `json:"snapshot"`
	// Path is the file or directory inside the snapshot, "/src/a.txt".
	Path string `json:"path"`
	// Blob is the chunk, content list or tree that is lost or corrupt.
	Blob core.ID `json:"blob"`
	// Why says what happened to it.
	Why string `json:"why"`
}

// Report is the outcome of a check.
type Report struct {
	Problems []Problem `json:"problems"`
	// Damaged lists, for every lost or corrupt blob a snapshot needs, the
	// snapshot and the path that need it.
	Damaged   []Damaged `json:"damaged"`
	Notes     []string  `json:"notes"`
	Keys      int       `json:"keys"`
	Snapshots int       `json:"snapshots"`
	Packs     int       `json:"packs"`
	Blobs     int       `json:"blobs"`
	BytesRead int64     `json:"bytes_read"`
	// Leftovers counts partial writes of dead processes, and
	// StaleSessions their session files.
	Leftovers     int   `json:"leftovers"`
	LeftoverBytes int64 `json:"leftover_bytes"`
	StaleSessions int   `json:"stale_sessions"`
	mu            sync.Mutex
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(object, format string, args ...any) {
	r.mu.Lock()
	r.Problems = append(r.Problems, Problem{Object: object, Message: fmt.Sprintf(format, args...)})
	r.mu.Unlock()
}

func (r *Report) note(format string, args ...any) {
	r.mu.Lock()
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

type checker struct {
	r       *repo.Repository
	opts    Options
	rep     *Report
	stored  map[core.ID]repo.PackInfo
	indexed map[core.ID][]index.Blob // by pack

	// bad holds, per blob, the packs whose copy of it is lost or corrupt
	// and why. A blob is lost when every copy the index knows is bad.
	badMu sync.Mutex
	bad   map[core.ID]map[core.ID]string
}

// badCopy records that pack's copy of blob is lost or corrupt.
func (c *checker) badCopy(blob, pack core.ID, why string) {
	c.badMu.Lock()
	defer c.badMu.Unlock()
	if c.bad[blob] == nil {
		c.bad[blob] = map[core.ID]string{}
	}
	c.bad[blob][pack] = why
}

// lost says why blob cannot be read, or "" if some copy is intact (or
// not known to be bad).
func (c *checker) lost(blob core.ID) string {
	c.badMu.Lock()
	none := len(c.bad) == 0
	c.badMu.Unlock()
	if none {
		// No copy is known bad: only an unindexed blob is lost, and Has
		// answers that without allocating.
		if c.r.Index().Has(blob) {
			return ""
		}
		return "it is not in any pack"
	}
	locs := c.r.Index().LookupAll(blob)
	if len(locs) == 0 {
		return "it is not in any pack"
	}
	c.badMu.Lock()
	defer c.badMu.Unlock()
	why := ""
	for _, l := range locs {
		w, ok := c.bad[blob][l.Pack]
		if !ok {
			return ""
		}
		why = w
	}
	return why
}

// Check verifies r. It returns an error only when the check itself could
// not run (the store is unreachable); damage is reported in the Report.
func Check(ctx context.Context, r *repo.Repository, opts Options) (*Report, error) {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	c := &checker{r: r, opts: opts, rep: &Report{Problems: []Problem{}, Notes: []string{}, Damaged: []Damaged{}},
		bad: map[core.ID]map[core.ID]string{}}
	if err := c.checkKeys(ctx); err != nil {
		return nil, err
	}
	if err := c.checkLeftovers(ctx); err != nil {
		return nil, err
	}
	if err := c.loadIndex(ctx); err != nil {
		return nil, err
	}
	if err := c.checkPacks(ctx); err != nil {
		return nil, err
	}
	// Data first, so that the walk of the snapshots can name what every
	// corrupt blob costs.
	if opts.ReadData {
		if err := c.readData(ctx); err != nil {
			return nil, err
		}
	}
	// The snapshots' blobs are expected in the index: skip the filter.
	r.Index().ExpectPresent(true)
	err := c.checkSnapshots(ctx)
	r.Index().ExpectPresent(false)
	if err != nil {
		return nil, err
	}
	c.rep.Blobs = r.Index().Len()
	if err := r.Index().WalkErr(); err != nil {
		return nil, fmt.Errorf("check: read the index cache: %w; delete the cache directory and check again", err)
	}
	return c.rep, nil
}

// loadIndex loads each index file on its own, so one bad file is reported
// rather than stopping the check. With the index cache, the repository
// loads it (streamed into the cache) and the check reports what it skipped.
func (c *checker) loadIndex(ctx context.Context) error {
	if c.r.IndexCached() {
		return c.loadCachedIndex(ctx)
	}
	ids, err := c.r.ListFiles(ctx, repo.KindIndex)
	if err != nil {
		return err
	}
	files := map[core.ID]*index.File{}
	superseded := map[core.ID]struct{}{}
	damaged := false
	for _, id := range ids {
		f, err := c.r.LoadIndexFile(ctx, id)
		if err != nil && errors.Is(err, repo.ErrCorrupt) {
			damaged = true
			c.rep.problem("index/"+id.String(), "index file is damaged (%v); backups and restores skip it and index its packs "+
				"from their headers; run 'cairn repo repair --apply' to rebuild the index and remove it", err)
			continue
		}
		if err != nil {
			return err
		}
		files[id] = f
		for _, s := range f.Supersedes {
			superseded[s] = struct{}{}
		}
	}
	for id, f := range files {
		if _, ok := superseded[id]; ok {
			c.rep.note("index file %s is superseded by a newer one; prune removes it", id.Short())
			continue
		}
		if err := c.r.Index().AddFile(f); err != nil {
			c.rep.problem("index/"+id.String(), "%v", err)
		}
	}
	if damaged {
		// The packs the damaged file listed are among those no other file
		// lists: without them every blob they hold would read as lost.
		if err := c.r.IndexFromHeaders(ctx); err != nil {
			return err
		}
	}
	return c.noteMarkers(ctx)
}

func (c *checker) loadCachedIndex(ctx context.Context) error {
	if err := c.r.LoadIndex(ctx); err != nil {
		return err
	}
	for id, err := range c.r.DamagedIndexFiles() {
		c.rep.problem("index/"+id.String(), "index file is damaged (%v); backups and restores skip it and index its packs "+
			"from their headers; run 'cairn repo repair --apply' to rebuild the index and remove it", err)
	}
	for _, id := range c.r.SupersededIndexFiles() {
		c.rep.note("index file %s is superseded by a newer one; prune removes it", id.Short())
	}
	return c.noteMarkers(ctx)
}

func (c *checker) noteMarkers(ctx context.Context) error {
	markers, err := c.r.LoadDeletionMarkers(ctx)
	if err != nil {
		c.rep.problem("pending/", "%v", err)
	}
	for _, m := range markers {
		c.rep.note("prune marker %s holds %d packs awaiting deletion", m.ID.Short(), len(m.Marker.Packs))
	}
	return nil
}

// checkPacks compares the index with the stored packs and their headers.
// Reading the data needs every pack's index entries at hand, so it keeps
// both in memory; the structure check streams them (packs.go).
func (c *checker) checkPacks(ctx context.Context) error {
	if !c.opts.ReadData {
		return c.checkPacksStreamed(ctx)
	}
	packs, err := c.r.ListPacks(ctx)
	if err != nil {
		return err
	}
	c.stored = make(map[core.ID]repo.PackInfo, len(packs))
	for _, p := range packs {
		c.stored[p.ID] = p
	}
	indexed := c.r.Index().PackBlobs()
	c.indexed = indexed
	c.rep.Packs = len(packs)
	for _, p := range packs {
		if _, ok := indexed[p.ID]; !ok {
			c.rep.note("pack %s is not indexed (left by an interrupted backup); the next backup adopts it and prune removes it if unused", p.ID.Short())
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Workers)
	for id, blobs := range indexed {
		info, ok := c.stored[id]
		if !ok {
			c.rep.problem(repo.PackName(id), "pack is listed in the index but missing from the store; its %d blobs are lost unless stored elsewhere "+
				"(the snapshots and files affected are listed below)", len(blobs))
			for _, b := range blobs {
				c.badCopy(b.ID, id, fmt.Sprintf("pack %s, which holds it, is missing from the store", id.Short()))
			}
			continue
		}
		g.Go(func() error { c.checkHeader(gctx, id, info.Size, blobs); return nil })
	}
	return g.Wait()
}

func (c *checker) checkHeader(ctx context.Context, id core.ID, size int64, want []index.Blob) {
	got, err := c.r.ReadPackHeader(ctx, id, size)
	if err != nil {
		c.rep.problem(repo.PackName(id), "%v", err)
		return
	}
	inHeader := make(map[core.ID]index.Blob, len(got))
	for _, b := range got {
		inHeader[b.ID] = b
	}
	for _, w := range want {
		if h, ok := inHeader[w.ID]; !ok || h.Offset != w.Offset || h.Length != w.Length || h.Type != w.Type {
			c.rep.problem(repo.PackName(id), "index entry for blob %s does not match the pack header", w.ID.Short())
		}
	}
}
