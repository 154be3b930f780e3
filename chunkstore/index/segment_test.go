package index

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// buildSegment writes the packs of src as a segment in dir, tagged 1, plus
// junk tagged 2 that keep drops, and opens it.
func buildSegment(t *testing.T, dir string, src *Index, junk map[core.ID][]Blob) *Segment {
	t.Helper()
	b, err := NewSegmentBuilder(SegmentConfig{Dir: dir, Memory: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for p, blobs := range src.PackBlobs() {
		if err := b.AddPack(1, p, blobs); err != nil {
			t.Fatal(err)
		}
		if err := b.AddPack(1, p, blobs); err != nil { // twice: stored once
			t.Fatal(err)
		}
	}
	for p, blobs := range junk {
		if err := b.AddPack(2, p, blobs); err != nil {
			t.Fatal(err)
		}
	}
	info, err := b.Finish(context.Background(), func(tag uint32) bool { return tag == 1 })
	if err != nil {
		t.Fatal(err)
	}
	if info.Entries != int64(src.Len()) || info.Packs != int64(len(src.PackBlobs())) {
		t.Fatalf("segment holds %d entries in %d packs, want %d in %d", info.Entries, info.Packs, src.Len(), len(src.PackBlobs()))
	}
	seg, err := OpenSegment(dir, info)
	if err != nil {
		t.Fatal(err)
	}
	return seg
}

// TestSegmentIndexAgainstModel builds a segment from random packs, puts it
// under an index, then runs random adds, exclusions and lookups against
// the model: the on-disk index must answer exactly as the in-memory one.
func TestSegmentIndexAgainstModel(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		r := newRand(seed)
		m := &model{locs: map[core.ID][]Location{}, packs: map[core.ID]bool{}}
		src := New()
		for range 300 {
			randomAdd(t, r, src, m)
		}
		junk := map[core.ID][]Blob{randID(r): randPack(r, 5)}
		seg := buildSegment(t, t.TempDir(), src, junk)
		ix := New()
		ix.SetBase(seg)
		for _, blobs := range junk {
			if ix.Has(blobs[0].ID) {
				t.Fatal("an entry of a dropped source is in the segment")
			}
		}
		for op := 0; op < 2000; op++ {
			switch x := r.IntN(100); {
			case x < 40:
				randomAdd(t, r, ix, m)
			case x < 43:
				randomExclude(r, ix, m)
			default:
				// With or without the filter the answers are the same.
				ix.ExpectPresent(r.IntN(2) == 0)
				checkSegmentIDs(t, ix, m, r.Uint64())
			}
		}
		checkAll(t, ix, m)
		checkSorted(t, ix)
		if err := ix.WalkErr(); err != nil {
			t.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// checkSegmentIDs is checkIDs without PackCount, which counts a pack both
// in the segment and in memory twice.
func checkSegmentIDs(t *testing.T, ix *Index, m *model, seed uint64) {
	t.Helper()
	r := newRand(seed)
	ids := []core.ID{randID(r)}
	for range 5 {
		ids = append(ids, m.blobPool[r.IntN(len(m.blobPool))])
	}
	for _, id := range ids {
		want := checkLookup(t, ix, m, id)
		any, ok := ix.LookupAny(id)
		if all := m.locs[id]; ok != (len(all) > 0) || (ok && !slices.Contains(all, any)) ||
			(len(want) > 0 && !slices.Contains(want, any)) {
			t.Fatalf("LookupAny(%s) = %+v, %v; visible %+v, all %+v", id.Short(), any, ok, want, all)
		}
	}
	if ix.Len() != m.entries {
		t.Fatalf("Len %d, want %d", ix.Len(), m.entries)
	}
}

func TestSegmentFilterServesAbsentIDs(t *testing.T) {
	r := newRand(5)
	src := New()
	for range 2000 {
		mustAdd(t, src, randID(r), randPack(r, 16)...)
	}
	seg := buildSegment(t, t.TempDir(), src, nil)
	defer seg.Close()
	passed := 0
	for range 100000 {
		id := randID(r)
		if seg.MayHave(&id) {
			passed++
		}
	}
	// 8-bit fingerprints: about 1 in 256 absent IDs gets past the filter.
	if passed > 1000 {
		t.Fatalf("%d of 100000 absent IDs passed the filter", passed)
	}
	for id := range src.Each {
		if !seg.MayHave(&id) {
			t.Fatalf("filter rejects stored blob %s", id.Short())
		}
	}
}

func TestOpenSegmentRejectsDamage(t *testing.T) {
	r := newRand(6)
	src := New()
	for range 50 {
		mustAdd(t, src, randID(r), randPack(r, 16)...)
	}
	for _, tc := range []struct {
		name   string
		damage func(dir, name string)
	}{
		{"missing file", func(dir, name string) { os.Remove(filepath.Join(dir, name+".packs")) }},
		{"truncated", func(dir, name string) { os.Truncate(filepath.Join(dir, name+".ids"), 1000) }},
		{"bad magic", func(dir, name string) {
			f, _ := os.OpenFile(filepath.Join(dir, name+".filter"), os.O_WRONLY, 0)
			f.WriteAt([]byte("XXXX"), 0)
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			seg := buildSegment(t, dir, src, nil)
			info := seg.Info()
			seg.Close()
			tc.damage(dir, info.Name)
			if s, err := OpenSegment(dir, info); err == nil {
				s.Close()
				t.Fatal("a damaged segment opened")
			}
		})
	}
}

func TestSegmentBuildLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	r := newRand(7)
	src := New()
	for range 3000 { // past the 1 MiB sort budget: several runs
		mustAdd(t, src, randID(r), randPack(r, 16)...)
	}
	seg := buildSegment(t, dir, src, nil)
	defer seg.Close()
	names, _ := os.ReadDir(dir)
	if len(names) != len(SegmentFiles(seg.Info().Name)) {
		t.Fatalf("dir holds %d files, want the %d of the segment", len(names), len(SegmentFiles(seg.Info().Name)))
	}
}

// checkSorted checks that EachPackSorted gives what PackBlobs does, once
// per pack, in pack ID order.
func checkSorted(t *testing.T, ix *Index) {
	t.Helper()
	want := ix.PackBlobs()
	var prev *core.ID
	n := 0
	err := ix.EachPackSorted(func(p core.ID, blobs []Blob) bool {
		if prev != nil && string(prev[:]) >= string(p[:]) {
			t.Fatalf("pack %s after %s", p.Short(), prev.Short())
		}
		prev = &p
		n++
		if !slices.Equal(blobs, want[p]) {
			t.Fatalf("pack %s: %d blobs, want %d", p.Short(), len(blobs), len(want[p]))
		}
		return true
	})
	if err != nil || n != len(want) {
		t.Fatalf("EachPackSorted visited %d packs (%v), want %d", n, err, len(want))
	}
}

func TestEachPackSortedInMemory(t *testing.T) {
	r := newRand(11)
	ix := New()
	for range 200 {
		mustAdd(t, ix, randID(r), randPack(r, 1+r.IntN(8))...)
	}
	checkSorted(t, ix)
}
