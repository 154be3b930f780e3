package pruner_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/checker"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
	"github.com/cairnbackup/cairn/chunkstore/pruner"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

var ctx = context.Background()

func tree(t *testing.T, seed uint64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	testtree.Build(t, dir, testtree.Spec{Seed: seed, SmallFiles: 20, LargeSize: 6 << 20})
	return dir
}

func backup(t *testing.T, r *repo.Repository, src string) archiver.Result {
	t.Helper()
	res, err := archiver.Backup(ctx, r, []string{src}, archiver.Options{})
	if err != nil {
		t.Error(err)
		return archiver.Result{}
	}
	return *res
}

func forget(t *testing.T, r *repo.Repository, id interface{ String() string }) {
	t.Helper()
	all, err := snapshot.List(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all.Snapshots {
		if s.ID.String() == id.String() {
			if err := r.DeleteFile(ctx, repo.KindSnapshot, s.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func prune(t *testing.T, r *repo.Repository) *pruner.Result {
	t.Helper()
	res, err := pruner.Prune(ctx, r, pruner.Options{Grace: time.Nanosecond})
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	return res
}

func check(t *testing.T, store blob.Store) {
	t.Helper()
	rep, err := checker.Check(ctx, repotest.Open(t, store), checker.Options{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("check: %v", rep.Problems)
	}
}

// restoreAll restores every snapshot and compares it with the tree its
// paths name.
func restoreAll(t *testing.T, r *repo.Repository) int {
	t.Helper()
	all, err := snapshot.List(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all.Snapshots {
		dst := t.TempDir()
		if _, err := restorer.Restore(ctx, r, s.Snapshot, restorer.Options{Target: dst}); err != nil {
			t.Fatalf("restore %s: %v", s.ID.Short(), err)
		}
		testtree.Compare(t, s.Paths[0], filepath.Join(dst, filepath.Base(s.Paths[0])))
	}
	return len(all.Snapshots)
}

func TestPruneRemovesForgottenData(t *testing.T) {
	store := repotest.FS(t, t.TempDir())
	r := repotest.Init(t, store)
	keep := backup(t, r, tree(t, 1))
	gone := backup(t, r, tree(t, 2))
	packsBefore, _ := r.ListPacks(ctx)
	forget(t, r, gone.ID)
	res := prune(t, repotest.Open(t, store))
	if res.PacksDeleted == 0 || res.BytesDeleted == 0 {
		t.Fatalf("prune deleted nothing: %+v", res)
	}
	packsAfter, _ := r.ListPacks(ctx)
	if len(packsAfter) >= len(packsBefore) {
		t.Fatalf("packs %d → %d, want fewer", len(packsBefore), len(packsAfter))
	}
	check(t, store)
	if n := restoreAll(t, repotest.Open(t, store)); n != 1 {
		t.Fatalf("%d snapshots left, want 1 (%s)", n, keep.ID.Short())
	}
}

func TestPruneWaitsForSessionsThatMayHaveMissedTheMarker(t *testing.T) {
	store := repotest.FS(t, t.TempDir())
	r := repotest.Init(t, store)
	gone := backup(t, r, tree(t, 3))
	forget(t, r, gone.ID)
	live, err := repotest.Open(t, store).StartSession(ctx, "backup")
	if err != nil {
		t.Fatal(err)
	}
	res := prune(t, repotest.Open(t, store))
	if res.PacksMarked == 0 || res.PacksDeleted != 0 || res.MarkersPending != 1 {
		t.Fatalf("with a live older session: %+v, want packs marked, none deleted, one marker pending", res)
	}
	check(t, store)
	if err := live.Close(ctx); err != nil {
		t.Fatal(err)
	}
	res = prune(t, repotest.Open(t, store))
	if res.PacksDeleted == 0 || res.MarkersPending != 0 {
		t.Fatalf("after the session ended: %+v, want the marked packs deleted", res)
	}
	check(t, store)
}

// fakeClock lets a test age sessions.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestStaleSessionDoesNotBlockPrune(t *testing.T) {
	store := repotest.FS(t, t.TempDir())
	clock := &fakeClock{now: time.Now()}
	opts := repotest.Options()
	opts.Clock = clock
	r, err := repo.Init(ctx, store, repotest.Password, opts)
	if err != nil {
		t.Fatal(err)
	}
	gone := backup(t, r, tree(t, 4))
	forget(t, r, gone.ID)
	if _, err := r.StartSession(ctx, "backup"); err != nil { // a writer that then dies
		t.Fatal(err)
	}
	clock.Add(repo.StaleAfter + time.Minute)
	res, err := pruner.Prune(ctx, r, pruner.Options{Grace: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.PacksDeleted == 0 {
		t.Fatalf("a dead writer's stale session blocked prune: %+v", res)
	}
	check(t, store)
}

// TestConcurrentWritersAndPrune runs several writers, each its own
// "process" with its own Repository, backing up trees that share content
// with a forgotten snapshot, while prune runs over and over. At the end one
// more prune sweeps, check must pass and every snapshot must restore.
func TestConcurrentWritersAndPrune(t *testing.T) {
	store := repotest.FS(t, t.TempDir())
	r := repotest.Init(t, store)
	shared := tree(t, 10)
	forgotten := backup(t, r, shared)
	forget(t, r, forgotten.ID)
	sources := []string{shared, tree(t, 11), tree(t, 12)}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 {
				rw := repotest.Open(t, store)
				res := backup(t, rw, sources[(w+i)%len(sources)])
				if i == 1 && res.Snapshot != nil {
					forget(t, rw, res.ID) // churn: make data unreferenced mid-run
				}
			}
		}()
	}
	var prunes int
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := pruner.Prune(ctx, repotest.Open(t, store), pruner.Options{Grace: time.Nanosecond}); err != nil {
				t.Errorf("concurrent prune: %v", err)
				return
			}
			prunes++
		}
	}()
	wg.Wait()
	close(stop)
	<-pruned
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("prune ran %d times during the writes", prunes)
	prune(t, repotest.Open(t, store))
	check(t, store)
	if n := restoreAll(t, repotest.Open(t, store)); n != 6 {
		t.Fatalf("%d snapshots, want 6", n)
	}
}
