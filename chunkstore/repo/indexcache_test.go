package repo_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

func randomID(r *rand.Rand) core.ID {
	var id core.ID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	return id
}

// writeIndexFiles stores n index files of random packs (the packs
// themselves are not stored: only the index is under test) and returns
// their IDs.
func writeIndexFiles(t *testing.T, rp *repo.Repository, r *rand.Rand, n int, shared []core.ID) []core.ID {
	t.Helper()
	var ids []core.ID
	for range n {
		var f index.File
		for range 1 + r.IntN(4) {
			pe := index.PackEntry{ID: randomID(r)}
			off := uint32(0)
			for range 1 + r.IntN(20) {
				id := randomID(r)
				if len(shared) > 0 && r.IntN(5) == 0 {
					id = shared[r.IntN(len(shared))] // the same blob in several packs
				}
				l := 1 + r.Uint32N(1<<20)
				pe.Blobs = append(pe.Blobs, index.Blob{ID: id, Type: core.DataBlob, Offset: off, Length: l, RawLength: l})
				off += l
			}
			f.Packs = append(f.Packs, pe)
		}
		id, err := rp.SaveIndexFile(ctx, &f)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func openIndexed(t *testing.T, store blob.Store, cache string, mergeAt int) *repo.Repository {
	t.Helper()
	opts := repotest.Options()
	opts.IndexCache, opts.MaxMemory, opts.IndexMergeAt = cache, 4<<20, mergeAt
	opts.Warn = func(err error) { t.Logf("warning: %v", err) }
	r, err := repo.Open(ctx, store, repotest.Password, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

// sameIndex checks that got answers every question as want does.
func sameIndex(t *testing.T, want, got *index.Index, r *rand.Rand) {
	t.Helper()
	if want.Len() != got.Len() {
		t.Fatalf("Len %d, want %d", got.Len(), want.Len())
	}
	n := 0
	for id := range want.Each {
		n++
		w, g := want.LookupAll(id), got.LookupAll(id)
		if !sameLocs(w, g) {
			t.Fatalf("LookupAll(%s) = %v, want %v", id.Short(), g, w)
		}
		if l, ok := got.Lookup(id); !ok || !slices.Contains(w, l) {
			t.Fatalf("Lookup(%s) = %v, %v", id.Short(), l, ok)
		}
	}
	m := 0
	for range got.Each {
		m++
	}
	if n != m {
		t.Fatalf("Each visits %d entries, want %d", m, n)
	}
	for range 1000 {
		if id := randomID(r); got.Has(id) {
			t.Fatalf("absent blob %s found", id.Short())
		}
	}
	wp, gp := want.PackBlobs(), got.PackBlobs()
	if len(wp) != len(gp) {
		t.Fatalf("%d packs, want %d", len(gp), len(wp))
	}
	for p, blobs := range wp {
		if !slices.Equal(blobs, gp[p]) {
			t.Fatalf("pack %s: blobs differ", p.Short())
		}
	}
}

func sameLocs(a, b []index.Location) bool {
	key := func(l index.Location) string { return fmt.Sprint(l) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, func(x, y index.Location) int { return compareStr(key(x), key(y)) })
	slices.SortFunc(b, func(x, y index.Location) int { return compareStr(key(x), key(y)) })
	return slices.Equal(a, b)
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func memoryIndex(t *testing.T, store blob.Store) *index.Index {
	t.Helper()
	r := repotest.Open(t, store)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	return r.Index()
}

// TestIndexCacheAnswersAsMemory follows a cache through its life: built
// on first use, new index files kept beside it in memory, merged in the
// background, rebuilt when a prune supersedes files it holds, when it is
// deleted and when it is damaged. At every step it must answer exactly as
// the index loaded into memory.
func TestIndexCacheAnswersAsMemory(t *testing.T) {
	store := mem.New()
	rp := repotest.Init(t, store)
	r := rand.New(rand.NewPCG(1, 2))
	shared := []core.ID{randomID(r), randomID(r), randomID(r)}
	files := writeIndexFiles(t, rp, r, 40, shared)
	cache := t.TempDir()

	c := openIndexed(t, store, cache, 1<<30)
	sameIndex(t, memoryIndex(t, store), c.Index(), r)
	c.Close()

	// New files are loaded beside the segment, not merged (threshold high).
	files = append(files, writeIndexFiles(t, rp, r, 5, shared)...)
	c = openIndexed(t, store, cache, 1<<30)
	if c.Index().MemoryEntries() == 0 {
		t.Fatal("new index files were not kept in memory beside the segment")
	}
	sameIndex(t, memoryIndex(t, store), c.Index(), r)
	c.Close()

	// A low threshold merges them in the background; the next process
	// finds them in the segment.
	c = openIndexed(t, store, cache, 1)
	if err := c.WaitIndexCache(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c = openIndexed(t, store, cache, 1<<30)
	if n := c.Index().MemoryEntries(); n != 0 {
		t.Fatalf("%d entries in memory after the merge, want 0", n)
	}
	sameIndex(t, memoryIndex(t, store), c.Index(), r)
	c.Close()

	// A prune-like file supersedes two cached files, dropping one pack.
	supersedeTwo(t, rp, files[:2])
	c = openIndexed(t, store, cache, 1<<30)
	sameIndex(t, memoryIndex(t, store), c.Index(), r)
	c.Close()

	// The cache is only a cache: deleted or damaged, it is rebuilt.
	if err := os.RemoveAll(cache); err != nil {
		t.Fatal(err)
	}
	c = openIndexed(t, store, cache, 1<<30)
	sameIndex(t, memoryIndex(t, store), c.Index(), r)
	c.Close()
	damageSegment(t, cache)
	c = openIndexed(t, store, cache, 1<<30)
	sameIndex(t, memoryIndex(t, store), c.Index(), r)
	c.Close()
}

// supersedeTwo writes a file that supersedes files, listing all their
// packs but the first, and deletes them, as a prune does.
func supersedeTwo(t *testing.T, rp *repo.Repository, files []core.ID) {
	t.Helper()
	out := index.File{Supersedes: files}
	for i, id := range files {
		f, err := rp.LoadIndexFile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.Packs = f.Packs[1:]
		}
		out.Packs = append(out.Packs, f.Packs...)
	}
	if _, err := rp.SaveIndexFile(ctx, &out); err != nil {
		t.Fatal(err)
	}
	for _, id := range files {
		if err := rp.DeleteFile(ctx, repo.KindIndex, id); err != nil {
			t.Fatal(err)
		}
	}
}

func damageSegment(t *testing.T, cache string) {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(cache, "*", "seg-*.ids"))
	if len(names) != 1 {
		t.Fatalf("want one segment, found %v", names)
	}
	if err := os.Truncate(names[0], 100); err != nil {
		t.Fatal(err)
	}
}

// TestIndexCacheKillDuringMerge stops a background merge after its segment
// is written but before the manifest names it, with half-written files
// beside it, as a kill would. The next process must use the old segment
// and the files beside it, answer exactly, and a later merge must clear
// what the killed one left.
func TestIndexCacheKillDuringMerge(t *testing.T) {
	store := mem.New()
	rp := repotest.Init(t, store)
	r := rand.New(rand.NewPCG(3, 4))
	writeIndexFiles(t, rp, r, 20, nil)
	cache := t.TempDir()
	openIndexed(t, store, cache, 1<<30).Close()
	writeIndexFiles(t, rp, r, 10, nil)
	c := openIndexed(t, store, cache, 1<<30)
	delta := c.Index().MemoryEntries() // what the new files hold
	c.Close()
	background := delta / 2 // merged in the background, not before use

	killed := errors.New("killed")
	repo.SetMergeHook(func() error {
		dirs, _ := filepath.Glob(filepath.Join(cache, "*"))
		for _, d := range dirs {
			os.WriteFile(filepath.Join(d, ".tmp-seg-0000000000000000.ids"), []byte("partial"), 0o600)
			os.WriteFile(filepath.Join(d, "sort-1234"), []byte("partial"), 0o600)
		}
		return killed
	})
	c = openIndexed(t, store, cache, background)
	if err := c.WaitIndexCache(); !errors.Is(err, killed) {
		t.Fatalf("merge ended with %v, want the simulated kill", err)
	}
	c.Close()
	// A merge before use (the delta is too large to keep) killed the same
	// way: that process keeps them in memory beside the old segment.
	c = openIndexed(t, store, cache, 1)
	if c.Index().Base() == nil || c.Index().MemoryEntries() != delta {
		t.Fatalf("after a failed merge before use: segment %v, %d entries in memory, want %d", c.Index().Base() != nil, c.Index().MemoryEntries(), delta)
	}
	sameIndex(t, memoryIndex(t, store), c.Index(), r)
	c.Close()
	repo.SetMergeHook(nil)

	c = openIndexed(t, store, cache, 1<<30)
	if c.Index().MemoryEntries() == 0 {
		t.Fatal("the killed merge's segment is in use")
	}
	sameIndex(t, memoryIndex(t, store), c.Index(), r)
	c.Close()

	c = openIndexed(t, store, cache, background)
	if err := c.WaitIndexCache(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	left, _ := filepath.Glob(filepath.Join(cache, "*", "*"))
	segs := 0
	for _, n := range left {
		base := filepath.Base(n)
		switch {
		case base == "manifest.json" || base == "build.lock":
		case len(base) > 4 && base[:4] == "seg-":
			segs++
		default:
			t.Fatalf("leftover %s after a clean merge", base)
		}
	}
	if segs != len(index.SegmentFiles("x")) {
		t.Fatalf("%d segment files, want one segment's", segs)
	}
	c = openIndexed(t, store, cache, 1<<30)
	sameIndex(t, memoryIndex(t, store), c.Index(), r)
	c.Close()
}

// TestIndexCacheMergeLeavesSupersededOut merges a batch in which one file
// supersedes others, as a killed prune leaves it (its rewrite and the
// files it replaces both listed): the merged segment must hold neither
// the superseded files' entries nor read them again as new.
func TestIndexCacheMergeLeavesSupersededOut(t *testing.T) {
	store := mem.New()
	rp := repotest.Init(t, store)
	r := rand.New(rand.NewPCG(5, 6))
	writeIndexFiles(t, rp, r, 10, nil)
	cache := t.TempDir()
	openIndexed(t, store, cache, 1<<30).Close()
	added := writeIndexFiles(t, rp, r, 6, nil)
	old, err := rp.LoadIndexFile(ctx, added[0])
	if err != nil {
		t.Fatal(err)
	}
	// The rewrite keeps the first file's packs and drops those of the
	// next two, which it supersedes with it.
	rewrite := index.File{Packs: old.Packs, Supersedes: added[:3]}
	if _, err := rp.SaveIndexFile(ctx, &rewrite); err != nil {
		t.Fatal(err)
	}
	want := memoryIndex(t, store)
	c := openIndexed(t, store, cache, 1) // merged before use
	if c.Index().MemoryEntries() != 0 {
		t.Fatalf("%d entries in memory after a merge before use, want 0", c.Index().MemoryEntries())
	}
	sameIndex(t, want, c.Index(), r)
	c.Close()
	c = openIndexed(t, store, cache, 1<<30)
	defer c.Close()
	if c.Index().MemoryEntries() != 0 {
		t.Fatalf("the merged cache reads %d entries anew", c.Index().MemoryEntries())
	}
	sameIndex(t, want, c.Index(), r)
}

// TestReopenGivesEachJobItsOwnIndex opens handles on an unlocked
// repository, as a node agent does per work item: each reads the index
// through the cache, sees what was written since the last, and closing one
// leaves the repository and its store usable.
func TestReopenGivesEachJobItsOwnIndex(t *testing.T) {
	store := mem.New()
	base := repotest.Init(t, store)
	r := rand.New(rand.NewPCG(7, 8))
	writeIndexFiles(t, base, r, 5, nil)
	cache := t.TempDir()
	opts := repotest.Options()
	opts.IndexCache, opts.MaxMemory = cache, 64<<20
	for round := range 3 {
		h, err := base.Reopen(opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.LoadIndex(ctx); err != nil {
			t.Fatal(err)
		}
		if h.Index().Base() == nil {
			t.Fatalf("round %d: the handle does not read the index through the cache", round)
		}
		sameIndex(t, memoryIndex(t, store), h.Index(), r)
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		writeIndexFiles(t, base, r, 3, nil) // the base's store is still open
	}
	if base.Index().Len() != 0 {
		t.Fatalf("the handles' index reached the base: %d entries", base.Index().Len())
	}
}

// Right after a prune every index file is new to the cache: an open must
// not hold them all in memory before it finds it has to rebuild. Past the
// limit only the files' Supersedes are kept.
func TestNewIndexFilesPastTheLimitAreNotHeld(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	rp := repotest.Init(t, mem.New())
	ids := writeIndexFiles(t, rp, rnd, 40, nil)
	f := index.File{Supersedes: ids[:2], Packs: []index.PackEntry{{ID: randomID(rnd),
		Blobs: []index.Blob{{ID: randomID(rnd), Type: core.DataBlob, Length: 10, RawLength: 10}}}}}
	last, err := rp.SaveIndexFile(ctx, &f)
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, last)
	held, counted, sup, err := rp.NewIndexEntriesHeld(ctx, ids, 1<<30)
	if err != nil || held != counted || sup != 2 || counted < 40 {
		t.Fatalf("under the limit: held %d of %d, %d superseded, err %v; want all held, 2 superseded", held, counted, sup, err)
	}
	held, counted2, sup, err := rp.NewIndexEntriesHeld(ctx, ids, counted/4)
	if err != nil || held != 0 || counted2 != counted || sup != 2 {
		t.Fatalf("past the limit: held %d of %d (want 0 of %d), %d superseded (want 2), err %v", held, counted2, counted, sup, err)
	}
}
