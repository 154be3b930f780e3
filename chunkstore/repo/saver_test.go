package repo_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// Many workers seal blobs of mixed sizes and types into shared packs at
// once: every blob must come back intact, and no pack may exceed its
// type's target size plus its header (data: the config's pack size; trees:
// 4 MiB), whichever worker happened to close or send it.
func TestSaverConcurrentSealing(t *testing.T) {
	// One uploader leaves the fewest pack slots: the tightest case for the
	// workers waiting on them.
	for _, uploads := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d uploads", uploads), func(t *testing.T) { testConcurrentSealing(t, uploads) })
	}
}

func testConcurrentSealing(t *testing.T, uploads int) {
	store := mem.New()
	r := repotest.Init(t, store)
	s, err := r.NewSaver(ctx, repo.SaverOptions{Uploads: uploads})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	saved := map[core.ID][]byte{}
	types := map[core.ID]core.BlobType{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 9))
			h := r.NewHasher()
			for range 40 {
				typ := core.DataBlob
				size := 1 + rnd.IntN(3<<20)
				if rnd.IntN(4) == 0 {
					typ, size = core.TreeBlob, 1+rnd.IntN(1<<20)
				}
				b := make([]byte, size)
				for i := range b {
					b[i] = byte(rnd.Uint32())
				}
				if rnd.IntN(3) == 0 {
					clear(b[len(b)/2:]) // compressible
				}
				id := h.Sum(b)
				if _, err := s.Save(typ, id, b); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				saved[id], types[id] = b, typ
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r2 := repotest.Open(t, store)
	if err := r2.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	packTypes := map[string]core.BlobType{}
	for id, want := range saved {
		got, err := r2.LoadBlob(ctx, types[id], id, nil)
		if err != nil {
			t.Fatalf("blob %s: %v", id.Short(), err)
		}
		if string(got) != string(want) {
			t.Fatalf("blob %s came back different", id.Short())
		}
		loc, _ := r2.Index().Lookup(id)
		packTypes[repo.PackName(loc.Pack)] = types[id]
	}
	targets := map[core.BlobType]int64{core.DataBlob: int64(r.Config().PackSize), core.TreeBlob: 4 << 20}
	seen := map[core.BlobType]int{}
	err = store.List(ctx, "data/", func(info blob.Info) error {
		typ, ok := packTypes[info.Name]
		if !ok {
			return fmt.Errorf("pack %s holds none of the blobs saved", info.Name)
		}
		seen[typ]++
		if info.Size > targets[typ]+64<<10 {
			t.Errorf("%s pack %s is %d bytes, over the %d target", typ, info.Name, info.Size, targets[typ])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen[core.TreeBlob] < 2 || seen[core.DataBlob] < 2 {
		t.Fatalf("packs by type %v: want several of each", seen)
	}
}
