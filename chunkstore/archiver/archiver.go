package archiver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/cairnbackup/cairn/chunkstore/compress"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// Options tune one backup.
type Options struct {
	// Workers is the number of chunking workers; 0 means one per CPU, since
	// chunking and hashing are CPU-bound.
	Workers int
	// Uploads is the number of packs in flight; 0 means repo.DefaultUploads.
	Uploads     int
	Compression *compress.Level
	// Block backs up the single path as a raw image: zero ranges are not
	// stored and the snapshot kind is "block".
	Block bool
	// BlockRanges, with Block, reads only some ranges of the image (see
	// BlockRanges); nil reads it all.
	BlockRanges *BlockRanges
	// IgnoreInode judges a file unchanged since the parent by its size and
	// modification time alone, not its inode number and change time: a
	// snapshot mounted afresh (a new copy of the tree each time) has new
	// ones for every file. Such a backup misses a change that kept a
	// file's size and set its mtime back.
	IgnoreInode bool
	// Parent is the snapshot to compare against; unchanged files are not read.
	Parent   *snapshot.Snapshot
	ParentID *core.ID
	Tags     []string
	Hostname string
	Program  string
	// Progress, if set, is updated while the backup runs.
	Progress *Progress
	// ReadLimit, if set, bounds how fast sources are read (bytes per
	// second, its burst at least one read of the window), so a backup
	// leaves the node's applications their share of the disk.
	ReadLimit *rate.Limiter
	// Resume says the backup takes over one that was stopped (its writer
	// killed): packs no index lists are looked for and reused even with
	// the index cache, which otherwise lists the store only when a dead
	// writer's session is there to say so.
	Resume bool
}

// Progress counters, safe to read concurrently.
type Progress struct {
	BytesTotal atomic.Int64 // grows as the walker finds files
	BytesDone  atomic.Int64
	FilesDone  atomic.Int64
}

// Result is what a finished backup returns.
type Result struct {
	ID       core.ID
	Snapshot *snapshot.Snapshot
	Stages   StageStats
	Warnings []error
	// FirstNewBlob is the time from the call of Backup to the first new
	// blob sealed into a pack (0 if none was new): index loading and
	// everything else a writer does before it can store data.
	FirstNewBlob time.Duration
}

// StageStats is the busy time of each pipeline stage summed over its
// goroutines, with the wall time, for tuning.
type StageStats struct {
	Wall                          time.Duration
	Read, Chunk, Hash             time.Duration
	Compress, Encrypt, Pack, Save time.Duration
	Upload                        time.Duration
}

// Backup saves paths (or, with opts.Block, one image) as a new snapshot.
func Backup(ctx context.Context, r *repo.Repository, paths []string, opts Options) (*Result, error) {
	if len(paths) == 0 {
		return nil, errors.New("backup: no paths given")
	}
	if opts.Block && len(paths) != 1 {
		return nil, errors.New("backup: --block takes exactly one device or image")
	}
	if opts.Block {
		if err := CheckBlockSource(paths[0]); err != nil {
			return nil, err
		}
	}
	called := time.Now()
	a, err := newArchiver(ctx, r, opts)
	if err != nil {
		return nil, err
	}
	res, err := a.run(ctx, paths)
	if first := a.saver.Stats.FirstNewNs.Load(); res != nil && first != 0 {
		res.FirstNewBlob = time.Unix(0, first).Sub(called)
	}
	if cerr := a.saver.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
		err = cerr
	}
	return res, err
}

type archiver struct {
	r     *repo.Repository
	opts  Options
	saver *repo.Saver
	start time.Time
	prog  *Progress

	stats   snapshot.Stats
	statsMu sync.Mutex
	stages  stageCounters

	warnMu   sync.Mutex
	warnings []error
}

func newArchiver(ctx context.Context, r *repo.Repository, opts Options) (*archiver, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	saver, err := r.NewSaver(ctx, repo.SaverOptions{Uploads: opts.Uploads, Compression: opts.Compression})
	if err != nil {
		return nil, err
	}
	if _, err := r.AdoptUnindexed(ctx, opts.Resume); err != nil {
		_ = saver.Close(ctx)
		return nil, err
	}
	prog := opts.Progress
	if prog == nil {
		prog = &Progress{}
	}
	return &archiver{r: r, opts: opts, saver: saver, start: r.Clock().Now(), prog: prog}, nil
}

// warnPath records a failure to read path. An *fs.PathError already names
// the operation and the path, so it is kept as it is.
func (a *archiver) warnPath(op, path string, err error) {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		err = fmt.Errorf("%s %s: %w", op, path, err)
	}
	if errors.Is(err, fs.ErrPermission) {
		err = fmt.Errorf("%w (left out; run the backup as a user that can read it)", err)
	}
	a.warn(err)
}

func (a *archiver) warn(err error) {
	a.warnMu.Lock()
	a.warnings = append(a.warnings, err)
	a.warnMu.Unlock()
}

func (a *archiver) run(ctx context.Context, paths []string) (*Result, error) {
	wall := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	p := newPipeline(gctx, a)
	for range a.opts.Workers {
		g.Go(func() error { return p.workerLoop(gctx) })
	}
	g.Go(func() error { return p.finishLoop(gctx) })
	g.Go(func() error {
		defer p.closeQueues()
		return p.walkRoots(gctx, paths)
	})
	if err := g.Wait(); err != nil {
		p.closeAll()
		return nil, err
	}
	if err := a.saver.Flush(ctx); err != nil {
		return nil, err
	}
	if err := a.saver.Session().Healthy(); err != nil {
		return nil, err
	}
	snap := a.snapshotRecord(paths, p.root.node.Subtree)
	id, err := a.r.SaveJSON(ctx, repo.KindSnapshot, snap)
	if err != nil {
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	return &Result{ID: id, Snapshot: snap, Stages: a.stageStats(time.Since(wall)), Warnings: a.warnings}, nil
}

func (a *archiver) snapshotRecord(paths []string, tree []core.ID) *snapshot.Snapshot {
	abs := make([]string, len(paths))
	for i, p := range paths {
		if ap, err := filepath.Abs(p); err == nil {
			abs[i] = ap
		} else {
			abs[i] = p
		}
	}
	host := a.opts.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	kind := snapshot.KindFiles
	if a.opts.Block {
		kind = snapshot.KindBlock
	}
	end := a.r.Clock().Now()
	st := a.stats
	st.BytesAdded = a.saver.Stats.BytesNew.Load()
	st.BytesStored = a.saver.Stats.BytesStored.Load()
	st.BlobsNew = a.saver.Stats.BlobsNew.Load()
	st.DurationSeconds = end.Sub(a.start).Seconds()
	return &snapshot.Snapshot{Version: snapshot.Version, Kind: kind, Time: a.start, EndTime: end,
		Hostname: host, Paths: abs, Tags: a.opts.Tags, Parent: a.opts.ParentID, Tree: tree,
		Stats: st, Program: a.opts.Program}
}

func (a *archiver) addStats(fn func(s *snapshot.Stats)) {
	a.statsMu.Lock()
	fn(&a.stats)
	a.statsMu.Unlock()
}
