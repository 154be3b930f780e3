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

// Many workers seal blobs of mixed sizes into shared packs at once: every
// blob must come back intact, and no pack may exceed the target size plus
// its header, whichever worker happened to close or send it.
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
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 9))
			h := r.NewHasher()
			for range 40 {
				b := make([]byte, 1+rnd.IntN(3<<20))
				for i := range b {
					b[i] = byte(rnd.Uint32())
				}
				if rnd.IntN(3) == 0 {
					clear(b[len(b)/2:]) // compressible
				}
				id := h.Sum(b)
				if _, err := s.Save(core.DataBlob, id, b); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				saved[id] = b
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
	for id, want := range saved {
		got, err := r2.LoadBlob(ctx, core.DataBlob, id, nil)
		if err != nil {
			t.Fatalf("blob %s: %v", id.Short(), err)
		}
		if string(got) != string(want) {
			t.Fatalf("blob %s came back different", id.Short())
		}
	}
	err = store.List(ctx, "data/", func(info blob.Info) error {
		if info.Size > int64(r.Config().PackSize)+64<<10 {
			t.Errorf("pack %s is %d bytes, over the %d target", info.Name, info.Size, r.Config().PackSize)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
