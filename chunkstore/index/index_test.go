package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

func TestAddPackValidation(t *testing.T) {
	id := idOf(0xab, 1)
	tests := []struct {
		name string
		blob Blob
		ok   bool
	}{
		{"data blob", Blob{ID: id, Type: core.DataBlob, Offset: 0, Length: 1, RawLength: 1}, true},
		{"tree blob at the limits", Blob{ID: id, Type: core.TreeBlob, Offset: math.MaxUint32 - MaxBlobSize, Length: MaxBlobSize, RawLength: MaxBlobSize}, true},
		{"raw length zero", Blob{ID: id, Type: core.DataBlob, Length: 1}, true},
		{"type zero", Blob{ID: id, Type: 0, Length: 1}, false},
		{"type three", Blob{ID: id, Type: 3, Length: 1}, false},
		{"stored length zero", Blob{ID: id, Type: core.DataBlob, Length: 0, RawLength: 5}, false},
		{"stored length too large", Blob{ID: id, Type: core.DataBlob, Length: MaxBlobSize + 1}, false},
		{"raw length too large", Blob{ID: id, Type: core.DataBlob, Length: 1, RawLength: MaxBlobSize + 1}, false},
		{"offset plus length overflows", Blob{ID: id, Type: core.DataBlob, Offset: math.MaxUint32, Length: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := New()
			valid := dataBlob(idOf(1), 0, 10)
			err := ix.AddPack(idOf(9), []Blob{valid, tt.blob})
			if tt.ok {
				if err != nil {
					t.Fatalf("AddPack: %v", err)
				}
				if got, ok := ix.Lookup(tt.blob.ID); !ok || got != locOf(idOf(9), tt.blob) {
					t.Fatalf("Lookup = %+v, %v", got, ok)
				}
				return
			}
			if !errors.Is(err, ErrInvalidEntry) {
				t.Fatalf("AddPack error = %v, want ErrInvalidEntry", err)
			}
			if ix.Len() != 0 || ix.PackCount() != 0 || ix.Has(valid.ID) {
				t.Fatalf("invalid pack was partly added: Len %d PackCount %d", ix.Len(), ix.PackCount())
			}
		})
	}
}

func TestLookup(t *testing.T) {
	packA, packB := idOf(0xa0), idOf(0xb0)
	data := dataBlob(idOf(0x10, 0x20, 3), 0, 100)
	tree := Blob{ID: idOf(0x10, 0x20, 4), Type: core.TreeBlob, Offset: 100, Length: MaxBlobSize, RawLength: MaxBlobSize}
	other := dataBlob(idOf(0xff, 0xff, 0xff), 5, 6)
	ix := New()
	mustAdd(t, ix, packA, data, tree)
	mustAdd(t, ix, packB, other)

	tests := []struct {
		name string
		id   core.ID
		want *Location
	}{
		{"data blob", data.ID, &Location{Pack: packA, Type: core.DataBlob, Offset: 0, Length: 100, RawLength: 107}},
		{"tree blob with maximum lengths", tree.ID, &Location{Pack: packA, Type: core.TreeBlob, Offset: 100, Length: MaxBlobSize, RawLength: MaxBlobSize}},
		{"second pack", other.ID, &Location{Pack: packB, Type: core.DataBlob, Offset: 5, Length: 6, RawLength: 13}},
		{"miss in a used shard", idOf(0x10, 0x20, 5), nil},
		{"miss in an empty shard", idOf(0x55), nil},
		{"pack ID is not a blob", packA, nil},
	}
	for _, compact := range []bool{false, true} {
		if compact {
			ix.Compact()
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, ok := ix.Lookup(tt.id)
				if tt.want == nil {
					if ok || ix.Has(tt.id) || ix.LookupAll(tt.id) != nil {
						t.Fatalf("compact=%v: found %+v, want a miss", compact, got)
					}
					return
				}
				if !ok || got != *tt.want || !ix.Has(tt.id) {
					t.Fatalf("compact=%v: Lookup = %+v, %v; want %+v", compact, got, ok, *tt.want)
				}
				if all := ix.LookupAll(tt.id); !slices.Equal(all, []Location{*tt.want}) {
					t.Fatalf("compact=%v: LookupAll = %+v", compact, all)
				}
			})
		}
	}
	if ix.Len() != 3 || ix.PackCount() != 2 {
		t.Fatalf("Len %d PackCount %d, want 3 and 2", ix.Len(), ix.PackCount())
	}
}

func TestDuplicatesAndExclusion(t *testing.T) {
	p1, p2, p3 := idOf(1), idOf(2), idOf(3)
	dup := dataBlob(idOf(0x42), 0, 10)
	dupElsewhere := dataBlob(idOf(0x42), 50, 10)
	solo := dataBlob(idOf(0x43), 10, 10)
	for _, compact := range []bool{false, true} {
		ix := New()
		mustAdd(t, ix, p1, dup, solo)
		mustAdd(t, ix, p2, dupElsewhere)
		mustAdd(t, ix, p3, dup)
		if compact {
			ix.Compact()
		}
		want := []Location{locOf(p1, dup), locOf(p2, dupElsewhere), locOf(p3, dup)}
		if got := ix.LookupAll(dup.ID); !sameLocations(got, want) {
			t.Fatalf("compact=%v: LookupAll = %+v, want %+v", compact, got, want)
		}
		if ix.Len() != 4 {
			t.Fatalf("Len = %d, want 4", ix.Len())
		}

		ix.ExcludePacks(map[core.ID]struct{}{p1: {}, p3: {}, idOf(99): {}})
		if got, ok := ix.Lookup(dup.ID); !ok || got != locOf(p2, dupElsewhere) {
			t.Fatalf("compact=%v: Lookup after exclusion = %+v, %v", compact, got, ok)
		}
		if ix.Has(solo.ID) || ix.LookupAll(solo.ID) != nil {
			t.Fatalf("compact=%v: blob in an excluded pack is still visible", compact)
		}
		if got, ok := ix.LookupAny(solo.ID); !ok || got != locOf(p1, solo) {
			t.Fatalf("compact=%v: LookupAny of a blob in an excluded pack = %+v, %v", compact, got, ok)
		}
		if got, ok := ix.LookupAny(dup.ID); !ok || got != locOf(p2, dupElsewhere) {
			t.Fatalf("compact=%v: LookupAny of a blob with a visible copy = %+v, %v; want the visible one", compact, got, ok)
		}
		if _, ok := ix.LookupAny(idOf(0x77)); ok {
			t.Fatalf("compact=%v: LookupAny of an unknown blob", compact)
		}
		// A late entry for an excluded pack stays hidden.
		late := dataBlob(idOf(0x44), 20, 1)
		mustAdd(t, ix, p1, late)
		if ix.Has(late.ID) {
			t.Fatalf("compact=%v: late entry of an excluded pack is visible", compact)
		}
		ix.ExcludePacks(map[core.ID]struct{}{p2: {}})
		if ix.Has(dup.ID) {
			t.Fatalf("compact=%v: blob visible with all its packs excluded", compact)
		}
		if ix.Len() != 5 || ix.PackCount() != 3 {
			t.Fatalf("Len %d PackCount %d; excluded entries still count", ix.Len(), ix.PackCount())
		}
		if n := countEach(ix); n != 0 {
			t.Fatalf("Each visited %d excluded entries", n)
		}
	}
}

func TestAddingTwiceStoresOnce(t *testing.T) {
	pack := idOf(7)
	blobs := []Blob{dataBlob(idOf(1), 0, 5), dataBlob(idOf(2), 5, 5)}
	ix := New()
	mustAdd(t, ix, pack, blobs...)
	ix.Compact()
	mustAdd(t, ix, pack, blobs...)                // again, against sorted records
	mustAdd(t, ix, pack, blobs[0], blobs[0])      // twice in one call, against the delta
	mustAdd(t, ix, pack, dataBlob(idOf(1), 0, 6)) // same place, other length: a distinct entry
	if ix.Len() != 3 || ix.PackCount() != 1 {
		t.Fatalf("Len %d PackCount %d, want 3 and 1", ix.Len(), ix.PackCount())
	}
	if n := len(ix.LookupAll(idOf(1))); n != 2 {
		t.Fatalf("LookupAll found %d entries, want 2", n)
	}
}

// TestShardGrowth fills one shard past bucketMin, so records drop the second
// ID byte and the bucket table takes over, and checks every entry on the
// way.
func TestShardGrowth(t *testing.T) {
	ix := New()
	r := newRand(1)
	var blobs []Blob
	for i := 0; i < 3*bucketMin; i++ {
		id := randID(r)
		id[0] = 0x77
		if i%5 == 0 {
			id[1] = 0x00 // crowd the first bucket
		}
		if i%7 == 0 {
			id[1] = 0xff // and the last
		}
		b := dataBlob(id, uint32(i), 1)
		blobs = append(blobs, b)
		mustAdd(t, ix, idOf(byte(i%13), 1), b)
	}
	check := func(stage string) {
		t.Helper()
		for i, b := range blobs {
			if loc, ok := ix.Lookup(b.ID); !ok || loc.Offset != b.Offset {
				t.Fatalf("%s: blob %d: Lookup = %+v, %v", stage, i, loc, ok)
			}
		}
	}
	check("before compact")
	ix.Compact()
	check("after compact")
	if s := &ix.shards[0x77]; s.skip != 2 || s.n != len(blobs) || s.pending() != 0 {
		t.Fatalf("shard: skip %d n %d pending %d", s.skip, s.n, s.pending())
	}
	var prev core.ID
	i := 0
	for id := range ix.Each {
		if i > 0 && compareEntries(entry{id: prev}, entry{id: id}) >= 0 {
			t.Fatalf("Each out of order at %d", i)
		}
		prev = id
		i++
	}
	if i != len(blobs) {
		t.Fatalf("Each visited %d entries, want %d", i, len(blobs))
	}
}

func TestEachPack(t *testing.T) {
	ix := New()
	p1, p2, p3 := idOf(1), idOf(2), idOf(3)
	b1 := dataBlob(idOf(0xc0), 30, 10)
	b2 := dataBlob(idOf(0x01), 0, 30)
	b3 := Blob{ID: idOf(0x50), Type: core.TreeBlob, Offset: 0, Length: 3, RawLength: 9}
	mustAdd(t, ix, p1, b1, b2)
	mustAdd(t, ix, p2, b3)
	mustAdd(t, ix, p3, b2)
	ix.ExcludePacks(map[core.ID]struct{}{p3: {}})

	var packs []core.ID
	ix.EachPack(func(pack core.ID, blobs []Blob) bool {
		packs = append(packs, pack)
		return true
	})
	if !slices.Equal(packs, []core.ID{p1, p2}) {
		t.Fatalf("EachPack packs = %v, want p1 then p2 without excluded p3", packs)
	}
	got := ix.PackBlobs()
	want := map[core.ID][]Blob{p1: {b2, b1}, p2: {b3}}
	if len(got) != len(want) || !slices.Equal(got[p1], want[p1]) || !slices.Equal(got[p2], want[p2]) {
		t.Fatalf("PackBlobs = %+v, want %+v", got, want)
	}
	calls := 0
	ix.EachPack(func(core.ID, []Blob) bool { calls++; return false })
	if calls != 1 {
		t.Fatalf("EachPack went on after fn returned false: %d calls", calls)
	}
}

func TestEachMayCallIndex(t *testing.T) {
	ix := New()
	mustAdd(t, ix, idOf(1), dataBlob(idOf(5), 0, 1), dataBlob(idOf(6), 1, 1))
	n := 0
	ix.Each(func(id core.ID, _ Location) bool {
		// Would deadlock if Each held the lock while calling fn.
		mustAdd(t, ix, idOf(2), dataBlob(idOf(0x90, byte(n)), 0, 1))
		if !ix.Has(id) {
			t.Errorf("Has(%s) = false inside Each", id.Short())
		}
		n++
		return true
	})
	if n < 2 || ix.Len() != 2+n {
		t.Fatalf("visited %d, Len %d", n, ix.Len())
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	ix := New()
	r := newRand(2)
	var sorted, pending []core.ID
	for i := 0; i < 2000; i++ {
		b := randPack(r, 16)
		mustAdd(t, ix, randID(r), b...)
		sorted = append(sorted, b[0].ID)
	}
	ix.Compact()
	b := randPack(r, 4)
	mustAdd(t, ix, randID(r), b...)
	pending = append(pending, b[0].ID)
	for _, c := range []struct {
		name string
		id   core.ID
	}{{"sorted hit", sorted[3]}, {"delta hit", pending[0]}, {"miss", randID(r)}} {
		allocs := testing.AllocsPerRun(100, func() {
			ix.Lookup(c.id)
			ix.Has(c.id)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per lookup", c.name, allocs)
		}
	}
}

func countEach(ix *Index) int {
	n := 0
	for range ix.Each {
		n++
	}
	return n
}

// TestLowerBoundAnyGuess checks that the search finds the same record
// whatever the interpolation guess, including duplicate IDs.
func TestLowerBoundAnyGuess(t *testing.T) {
	ix := New()
	r := newRand(5)
	var ids []core.ID
	for i := range 300 {
		id := randID(r)
		id[0] = 0x21
		ids = append(ids, id)
		mustAdd(t, ix, idOf(byte(i%3)), dataBlob(id, 0, 1))
		if i%10 == 0 {
			mustAdd(t, ix, idOf(9), dataBlob(id, 0, 1)) // a duplicate
		}
	}
	ix.Compact()
	s := &ix.shards[0x21]
	for range 50 {
		ids = append(ids, randID(r)) // misses
	}
	for _, id := range ids {
		key := id[s.skip:]
		want := sort.Search(s.n, func(i int) bool { return bytes.Compare(s.key(i), key) >= 0 })
		k64 := binary.BigEndian.Uint64(key)
		for guess := range s.n {
			if got := s.lowerBound(0, s.n, guess, key, k64); got != want {
				t.Fatalf("lowerBound from guess %d = %d, want %d", guess, got, want)
			}
		}
	}
}

// TestSkewedIDs uses IDs that are far from uniform, so every interpolation
// guess is wrong; lookups must still be exact.
func TestSkewedIDs(t *testing.T) {
	ix := New()
	var ids []core.ID
	for i := range 3000 {
		lowEnd := idOf(0x44, 0x00, 0, 0, 0, 0, 0, 0, byte(i>>8), byte(i))
		highEnd := idOf(0x44, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, byte(i>>8), byte(i))
		ids = append(ids, lowEnd, highEnd)
		mustAdd(t, ix, idOf(1, byte(i)), dataBlob(lowEnd, 0, 1), dataBlob(highEnd, 1, 1))
	}
	for _, compact := range []bool{false, true} {
		if compact {
			ix.Compact()
		}
		for _, id := range ids {
			if !ix.Has(id) {
				t.Fatalf("compact=%v: Has(%x) = false", compact, id[:10])
			}
			miss := id
			miss[31] = 1
			if ix.Has(miss) {
				t.Fatalf("compact=%v: Has(%x) = true for a miss", compact, miss)
			}
		}
	}
}

func TestZeroValueIndex(t *testing.T) {
	var ix Index
	if ix.Has(idOf(1)) || ix.Len() != 0 || countEach(&ix) != 0 {
		t.Fatal("zero Index is not empty")
	}
	mustAdd(t, &ix, idOf(2), dataBlob(idOf(1), 0, 1))
	if !ix.Has(idOf(1)) {
		t.Fatal("zero Index did not take an entry")
	}
}
