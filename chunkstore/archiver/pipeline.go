package archiver

import (
	"context"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// dirJob is a directory whose tree blob waits for its files.
type dirJob struct {
	node  *snapshot.Node // the directory's own node; Subtree is set when saved
	nodes []*snapshot.Node
	// holds counts outstanding files plus one for the walker while it is
	// still listing; whoever drops it to zero closes done.
	holds atomic.Int64
	done  chan struct{}
}

func newDirJob(node *snapshot.Node) *dirJob {
	d := &dirJob{node: node, done: make(chan struct{})}
	d.holds.Store(1)
	return d
}

func (d *dirJob) hold() { d.holds.Add(1) }

func (d *dirJob) release() {
	if d.holds.Add(-1) == 0 {
		close(d.done)
	}
}

// fileJob is a regular file being read segment by segment.
type fileJob struct {
	node     *snapshot.Node
	path     string
	f        *os.File
	dir      *dirJob
	zeroSkip bool
	// src, when set, serves the segments' bytes instead of f (the patched
	// regions of a changed-block backup); it counts its own bytes read.
	src io.ReaderAt
	// keep are extents reused from the parent as they are.
	keep      []snapshot.Extent
	results   [][]snapshot.Extent // per segment
	remaining atomic.Int64
}

// task is one segment of a file for a worker.
type task struct {
	file        *fileJob
	seg         int
	off, length int64
}

type pipeline struct {
	a *archiver
	// open holds the files being read, so an aborted backup closes them:
	// a source left open keeps its file system or device busy.
	openMu sync.Mutex
	open   map[*fileJob]struct{}
	tasks  chan task
	dirs   chan *dirJob
	root   *dirJob
	// walkers bounds the goroutines walking directories besides the
	// first one.
	walkers *semaphore.Weighted
}

// extraWalkers is how many directories may be walked at once besides the
// first: enough to keep two cores busy with metadata system calls.
const extraWalkers = 3

// dirQueue is how many finished-listing directories may wait for the
// finisher: enough to keep the walker ahead, small enough to bound the
// nodes held in memory.
const dirQueue = 256

func newPipeline(ctx context.Context, a *archiver) *pipeline {
	return &pipeline{a: a, tasks: make(chan task), dirs: make(chan *dirJob, dirQueue), open: map[*fileJob]struct{}{},
		walkers: semaphore.NewWeighted(extraWalkers)}
}

// opened and closed track a file job's descriptor.
func (p *pipeline) opened(j *fileJob) {
	p.openMu.Lock()
	p.open[j] = struct{}{}
	p.openMu.Unlock()
}

func (p *pipeline) closed(j *fileJob) {
	p.openMu.Lock()
	delete(p.open, j)
	p.openMu.Unlock()
	j.f.Close()
}

// closeAll closes the files of jobs an aborted backup left unfinished.
func (p *pipeline) closeAll() {
	p.openMu.Lock()
	defer p.openMu.Unlock()
	for j := range p.open {
		j.f.Close()
		delete(p.open, j)
	}
}

func (p *pipeline) closeQueues() {
	close(p.tasks)
	close(p.dirs)
}

func (p *pipeline) sendTask(ctx context.Context, t task) error {
	select {
	case p.tasks <- t:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (p *pipeline) sendDir(ctx context.Context, d *dirJob) error {
	select {
	case p.dirs <- d:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// finishLoop saves each directory's tree once its files are done. Dirs
// arrive in post-order, so children are always saved before parents.
func (p *pipeline) finishLoop(ctx context.Context) error {
	hash := p.a.r.NewHasher()
	for d := range p.dirs {
		select {
		case <-d.done:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		ids, err := snapshot.SaveTree(p.a.saver, hash.Sum, d.nodes)
		if err != nil {
			return err
		}
		d.node.Subtree = ids
		d.nodes = nil
	}
	return nil
}
