package repo

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

func TestTreeCacheSharesReadsAndEvictsOldest(t *testing.T) {
	c := newTreeCache()
	var loads atomic.Int32
	load := func(n int) func() ([]byte, error) {
		return func() ([]byte, error) { loads.Add(1); return make([]byte, n), nil }
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.get(core.ID{1}, load(20<<20)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("8 concurrent gets of one pack read it %d times, want 1", n)
	}
	_, _ = c.get(core.ID{2}, load(20<<20))
	_, _ = c.get(core.ID{1}, load(20<<20)) // pack 1 is now the most recent
	_, _ = c.get(core.ID{3}, load(30<<20)) // over 64 MiB: pack 2 goes
	loads.Store(0)
	_, _ = c.get(core.ID{1}, load(20<<20))
	_, _ = c.get(core.ID{3}, load(30<<20))
	if n := loads.Load(); n != 0 {
		t.Fatalf("recent packs were read again %d times", n)
	}
	_, _ = c.get(core.ID{2}, load(20<<20))
	if n := loads.Load(); n != 1 {
		t.Fatalf("the least recently used pack was not evicted (reads: %d)", n)
	}
	_, _ = c.get(core.ID{4}, load(maxCachedPack+1))
	if _, ok := c.lookup(core.ID{4}); ok {
		t.Fatal("a pack over maxCachedPack was cached")
	}
	if _, err := c.get(core.ID{5}, func() ([]byte, error) { return nil, errors.New("boom") }); err == nil {
		t.Fatal("a failed read returned no error")
	}
	if _, ok := c.lookup(core.ID{5}); ok {
		t.Fatal("a failed read was cached")
	}
}
