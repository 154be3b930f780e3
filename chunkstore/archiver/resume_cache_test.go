package archiver_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/blob/fault"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
)

// laterClock is a clock a test moves forward.
type laterClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *laterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *laterClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// With the index cache a writer does not list the store at every start, so
// the packs a killed backup stored are looked for only on a sign of the
// crash: the caller says it resumes, or the dead writer's session is
// stale. Without either, they are stored again (and prune removes the
// unindexed copies).
func TestCrashThenResumeWithIndexCache(t *testing.T) {
	for _, tc := range []struct {
		name   string
		resume bool
		later  time.Duration
		reused bool
	}{
		{"resume", true, 0, true},
		{"stale session", false, repo.StaleAfter + time.Minute, true},
		{"no sign of a crash", false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := fault.Wrap(mem.New())
			repotest.Init(t, f)
			clock := &laterClock{now: time.Now()}
			cache := t.TempDir()
			open := func() *repo.Repository {
				opts := repotest.Options()
				opts.IndexCache, opts.MaxMemory, opts.Clock = cache, 64<<20, clock
				r, err := repo.Open(ctx, f, repotest.Password, opts)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				return r
			}
			backup(t, open(), []string{sourceTree(t, 7)}, archiver.Options{})
			src := sourceTree(t, 13)
			f.KillAfterPuts(3) // session + two packs, then the process "dies"
			if _, err := archiver.Backup(ctx, open(), []string{src}, archiver.Options{}); !errors.Is(err, fault.ErrKilled) {
				t.Fatalf("backup after kill: err = %v, want ErrKilled", err)
			}
			f.Clear()
			clock.add(tc.later)
			r := open()
			res := backup(t, r, []string{src}, archiver.Options{Resume: tc.resume})
			if !r.IndexCached() {
				t.Fatal("the repository was opened without its index cache")
			}
			stats := res.Snapshot.Stats
			if reused := stats.BytesAdded < stats.Bytes; reused != tc.reused {
				t.Fatalf("resumed backup added %d of %d bytes: reused %v, want %v", stats.BytesAdded, stats.Bytes, reused, tc.reused)
			}
			sessions, err := r.Sessions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sessions {
				if s.Stale && tc.reused {
					t.Errorf("session %s of the dead writer is still there after its packs were adopted", s.ID.Short())
				}
			}
			dst := t.TempDir()
			restore(t, r, res.Snapshot, restorer.Options{Target: dst})
			testtree.Compare(t, src, filepath.Join(dst, "src"))
			mustCheck(t, r, true)
		})
	}
}
