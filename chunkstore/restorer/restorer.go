package restorer

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// Options tune a restore.
type Options struct {
	// Target is the directory to restore into; it is created if missing.
	// For a block snapshot it may also name a file or block device that
	// receives the image itself.
	Target string
	// Include restricts the restore to one path inside the snapshot, such
	// as "data/db" (leading slash optional).
	Include string
	// Workers is the number of packs fetched and written at once; 0 means
	// DefaultWorkers.
	Workers int
	// Progress, if set, is updated while the restore runs.
	Progress *Progress
	// Verify re-reads every restored file once it is written and checks
	// its size, its holes and each chunk against the chunk's ID.
	Verify bool
	// PlanMemory bounds the plan: once the chunks planned and not yet
	// fetched would take more, they are fetched before planning goes on,
	// so a snapshot of any size restores in bounded memory. 0 means half
	// the repository's memory budget (repo.Repository.MaxMemory).
	PlanMemory int64
	// PlanOnly plans the restore and fetches nothing: directories and
	// files are created, files as holes of their final size, and no
	// metadata is applied. It measures what a plan costs (bench/SCALE.md)
	// and reports in Result what would be fetched.
	PlanOnly bool
}

// Estimated plan memory per distinct chunk (item, 112 bytes allocated;
// its map entry, about 70; its place in the pack list; its targets slice)
// and per place a chunk is written.
const (
	planItemBytes   = 320
	planTargetBytes = 16
)

// DefaultWorkers fetches this many packs at once from a local store, where
// restore is bound by decryption, hashing and writes: one worker per CPU
// keeps them busy, and each more worker only holds another pack range in
// memory (measured on 2 cores: 2 workers as fast as 8, at a third of the
// peak RSS).
var DefaultWorkers = max(2, runtime.GOMAXPROCS(0))

// RemoteWorkers is the count for object stores, where each GET waits on the
// network: eight 16 MiB ranges in flight hide typical S3 latency.
var RemoteWorkers = max(8, 2*runtime.GOMAXPROCS(0))

// Progress counters, safe to read concurrently.
type Progress struct {
	BytesTotal atomic.Int64
	BytesDone  atomic.Int64
}

// Result summarises a restore. Damaged lists what the repository could
// not provide; the restore wrote everything else, and a damaged file is
// there at its size, with its metadata, holes where the damage is.
type Result struct {
	Files, Dirs, Bytes int64
	Warnings           []error
	Damaged            []Damage
	// Verified counts the files that Verify read back and found exact.
	Verified int64
	// PlanBatches counts the batches the plan was cut into to stay within
	// Options.PlanMemory (1 when it fitted whole); PlannedBlobs and
	// PlannedPacks count the blobs and pack reads the batches needed.
	PlanBatches  int
	PlannedBlobs int64
	PlannedPacks int64
}

// Restore writes snap (or opts.Include within it) under opts.Target.
func Restore(ctx context.Context, r *repo.Repository, snap *snapshot.Snapshot, opts Options) (*Result, error) {
	if opts.Target == "" {
		return nil, fmt.Errorf("restore: no target given")
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Progress == nil {
		opts.Progress = &Progress{}
	}
	if opts.PlanMemory <= 0 {
		opts.PlanMemory = r.MaxMemory() / 2
	}
	sess, err := r.StartSession(ctx, "restore")
	if err != nil {
		return nil, err
	}
	defer sess.Close(context.WithoutCancel(ctx))
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	// A pack the index lists but the store lost is hidden, so that a blob
	// a later backup stored again is read from its new copy.
	if _, err := r.VerifyPacks(ctx); err != nil {
		return nil, err
	}
	rs := &restore{r: r, opts: opts, packs: map[core.ID][]*item{}}
	// Every chunk planned is expected in the index: skip the filter.
	r.Index().ExpectPresent(true)
	err = rs.plan(ctx, snap)
	r.Index().ExpectPresent(false)
	if err != nil {
		return nil, err
	}
	if err := rs.fetchBatch(ctx); err != nil {
		return nil, err
	}
	rs.result.PlanBatches = rs.batches + 1
	if opts.PlanOnly {
		return &rs.result, nil
	}
	rs.finish()
	if opts.Verify {
		if err := rs.verifyAll(ctx); err != nil {
			return nil, err
		}
	}
	rs.result.Damaged = rs.damage.sorted()
	return &rs.result, nil
}

type restore struct {
	r      *repo.Repository
	opts   Options
	result Result

	files []*fileOut          // every regular file written
	packs map[core.ID][]*item // pack → blobs needed from it
	metas []pending           // metadata to apply, in creation order
	links map[linkKey]string  // hard-link groups: first path restored
	// planned is the estimated memory of the chunks planned and not yet
	// fetched; batches counts the fetches the plan was cut into.
	planned int64
	batches int

	// apply sets one entry's metadata: applyMeta, unless a test watches.
	apply func(path string, n *snapshot.Node, chown bool) []error

	damage   damages
	warnMu   sync.Mutex // guards result.Warnings once fetch workers run
	verified atomic.Int64
}

// warn records a problem that does not make the restore incomplete.
func (rs *restore) warn(err error) {
	rs.warnMu.Lock()
	rs.result.Warnings = append(rs.result.Warnings, err)
	rs.warnMu.Unlock()
}

// resolve finds the nodes to restore: the root's children, or the single
// node named by include.
func (rs *restore) resolve(ctx context.Context, snap *snapshot.Snapshot) ([]*snapshot.Node, error) {
	nodes, err := snapshot.LoadTree(ctx, rs.r, snap.Tree)
	if err != nil {
		return nil, fmt.Errorf("load snapshot tree: %w", err)
	}
	inc := strings.Trim(rs.opts.Include, "/")
	if inc == "" {
		return nodes, nil
	}
	parts := strings.Split(inc, "/")
	for i, name := range parts {
		var found *snapshot.Node
		for _, n := range nodes {
			if n.Name == name {
				found = n
			}
		}
		if found == nil {
			return nil, fmt.Errorf("restore: %q is not in the snapshot; list it with 'cairn repo ls'", "/"+strings.Join(parts[:i+1], "/"))
		}
		if i == len(parts)-1 {
			return []*snapshot.Node{found}, nil
		}
		if found.Type != snapshot.TypeDir {
			return nil, fmt.Errorf("restore: %q is a %s, not a directory", "/"+strings.Join(parts[:i+1], "/"), found.Type)
		}
		if nodes, err = snapshot.LoadTree(ctx, rs.r, found.Subtree); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func ensureDir(path string) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("restore: create target %s: %w", path, err)
	}
	return nil
}
