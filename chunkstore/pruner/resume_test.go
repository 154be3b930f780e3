package pruner_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/pruner"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

func openCached(t *testing.T, store blob.Store, cache string) *repo.Repository {
	t.Helper()
	opts := repotest.Options()
	opts.IndexCache, opts.MaxMemory = cache, 64<<20
	r, err := repo.Open(ctx, store, repotest.Password, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A prune stopped after it built the referenced set (here a dry run, which
// stops after marking) leaves the set on disk; the next prune reuses it
// while the snapshots are the same, finishes the job, and removes it. A
// new snapshot makes the set stale: it is built again.
func TestPruneResumesFromItsReferencedSet(t *testing.T) {
	cache := t.TempDir()
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	store := r.Store()
	backup(t, r, tree(t, 1))
	gone := backup(t, r, tree(t, 2))
	forget(t, r, gone.ID)

	if _, err := pruner.Prune(ctx, openCached(t, store, cache), pruner.Options{Grace: time.Nanosecond, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	sets := refSets(t, cache)
	if len(sets) != 1 {
		t.Fatalf("after a stopped prune: referenced sets %v, want one", sets)
	}
	before, _ := os.Stat(sets[0])
	time.Sleep(10 * time.Millisecond)
	if _, err := pruner.Prune(ctx, openCached(t, store, cache), pruner.Options{Grace: time.Nanosecond, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if again := refSets(t, cache); len(again) != 1 || again[0] != sets[0] {
		t.Fatalf("second stopped prune: sets %v, want %v reused", again, sets)
	}
	if after, _ := os.Stat(sets[0]); !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("the referenced set was built again though the snapshots did not change")
	}
	backup(t, openCached(t, store, cache), tree(t, 3)) // the snapshots change
	res, err := pruner.Prune(ctx, openCached(t, store, cache), pruner.Options{Grace: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.PacksDeleted == 0 {
		t.Fatal("the resumed prune deleted nothing")
	}
	if left := refSets(t, cache); len(left) != 0 {
		t.Fatalf("referenced sets left after a finished prune: %v", left)
	}
	check(t, store)
	if n := restoreAll(t, openCached(t, store, cache)); n != 2 {
		t.Fatalf("%d snapshots restored, want 2", n)
	}
}

func refSets(t *testing.T, cache string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(cache, "*", "prune-refs-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// failIndexDeletes is a store on which removing an index file fails, as a
// prune killed after it rewrote the index and deleted the packs finds it.
type failIndexDeletes struct{ blob.Store }

var errKilled = errors.New("killed")

func (s failIndexDeletes) Delete(ctx context.Context, name string) error {
	if strings.HasPrefix(name, "index/") {
		return errKilled
	}
	return s.Store.Delete(ctx, name)
}

// A prune stopped after its rewrite superseded the old index files, but
// before it removed them, leaves both listed. The next prune must account
// for the superseded files too: once it removes the file that superseded
// them, they would otherwise be live again, naming the packs the first
// prune deleted.
func TestPruneAfterOneStoppedBeforeRemovingOldIndexFiles(t *testing.T) {
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	store := r.Store()
	backup(t, r, tree(t, 1))
	second := backup(t, r, tree(t, 2))
	third := backup(t, r, tree(t, 3))
	forget(t, r, second.ID)

	_, err := pruner.Prune(ctx, repotest.Open(t, failIndexDeletes{store}), pruner.Options{Grace: time.Nanosecond})
	if !errors.Is(err, errKilled) {
		t.Fatalf("prune on a store that cannot remove index files: %v, want the simulated kill", err)
	}
	forget(t, r, third.ID)
	if res := prune(t, repotest.Open(t, store)); res.PacksDeleted == 0 {
		t.Fatal("the second prune deleted nothing")
	}
	check(t, store)
	if n := restoreAll(t, repotest.Open(t, store)); n != 1 {
		t.Fatalf("%d snapshots restored, want 1", n)
	}
}
