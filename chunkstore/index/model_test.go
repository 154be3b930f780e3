package index

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// model is the obvious index: a map from blob ID to its distinct locations.
type model struct {
	locs     map[core.ID][]Location
	packs    map[core.ID]bool // known pack -> excluded
	entries  int
	blobPool []core.ID
	packPool []core.ID
}

func (m *model) add(pack core.ID, blobs []Blob) {
	if _, ok := m.packs[pack]; !ok {
		m.packs[pack] = false
		m.packPool = append(m.packPool, pack)
	}
	for _, b := range blobs {
		l := locOf(pack, b)
		if !slices.Contains(m.locs[b.ID], l) {
			if len(m.locs[b.ID]) == 0 {
				m.blobPool = append(m.blobPool, b.ID)
			}
			m.locs[b.ID] = append(m.locs[b.ID], l)
			m.entries++
		}
	}
}

func (m *model) visible(id core.ID) []Location {
	var out []Location
	for _, l := range m.locs[id] {
		if !m.packs[l.Pack] {
			out = append(out, l)
		}
	}
	return out
}

// TestRandomizedAgainstModel runs random adds, exclusions and compactions
// and compares every answer with the model.
func TestRandomizedAgainstModel(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		r := newRand(seed)
		ix := New()
		m := &model{locs: map[core.ID][]Location{}, packs: map[core.ID]bool{}}
		for op := 0; op < 3000; op++ {
			switch x := r.IntN(100); {
			case x < 60:
				randomAdd(t, r, ix, m)
			case x < 62:
				randomExclude(r, ix, m)
			case x < 64:
				ix.Compact()
				checkInvariants(t, ix)
			default:
				checkIDs(t, r, ix, m)
			}
		}
		checkInvariants(t, ix)
		checkAll(t, ix, m)
	}
}

// checkInvariants checks the layout doc.go promises: records strictly
// ordered, the layout matching the shard size, the bucket table covering
// the records, and the entry count.
func checkInvariants(t *testing.T, ix *Index) {
	t.Helper()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	total := 0
	for i := range ix.shards {
		s := &ix.shards[i]
		total += s.n + s.pending()
		if s.n == 0 {
			continue
		}
		if s.skip != skipFor(s.n) || len(s.recs) != s.n*stride(s.skip) {
			t.Fatalf("shard %02x: %d records, skip %d, %d bytes", i, s.n, s.skip, len(s.recs))
		}
		if s.skip == 2 && (len(s.buckets) != 257 || s.buckets[0] != 0 || int(s.buckets[256]) != s.n ||
			!slices.IsSorted(s.buckets)) {
			t.Fatalf("shard %02x: bad bucket table", i)
		}
		c := cursor{s: s, first: byte(i)}
		var prev entry
		for j := 0; c.next(); j++ {
			cur := entry{id: c.id, m: c.m}
			if j > 0 && compareEntries(prev, cur) >= 0 {
				t.Fatalf("shard %02x: record %d out of order", i, j)
			}
			prev = cur
		}
	}
	if total != ix.count {
		t.Fatalf("shards hold %d entries, count says %d", total, ix.count)
	}
}

func randomAdd(t *testing.T, r *rand.Rand, ix *Index, m *model) {
	pack := randID(r)
	if len(m.packPool) > 0 && r.IntN(4) == 0 {
		pack = m.packPool[r.IntN(len(m.packPool))]
	}
	blobs := randPack(r, r.IntN(20))
	for i := range blobs {
		switch x := r.IntN(10); {
		case x < 2 && len(m.blobPool) > 0:
			blobs[i].ID = m.blobPool[r.IntN(len(m.blobPool))]
		case x < 4:
			blobs[i].ID[0] = 0x33 // grow one shard past bucketMin
		}
	}
	if len(blobs) > 0 && r.IntN(30) == 0 {
		blobs[r.IntN(len(blobs))].Length = 0
		if err := ix.AddPack(pack, blobs); err == nil {
			t.Fatal("AddPack accepted a zero-length blob")
		}
		return
	}
	mustAdd(t, ix, pack, blobs...)
	m.add(pack, blobs)
}

func randomExclude(r *rand.Rand, ix *Index, m *model) {
	set := map[core.ID]struct{}{randID(r): {}} // unknown packs are ignored
	for range r.IntN(3) {
		if len(m.packPool) > 0 {
			p := m.packPool[r.IntN(len(m.packPool))]
			set[p] = struct{}{}
			m.packs[p] = true
		}
	}
	ix.ExcludePacks(set)
}

// checkLookup checks LookupAll, Lookup and Has of id against the model,
// and returns the locations the model says are visible.
func checkLookup(t *testing.T, ix *Index, m *model, id core.ID) []Location {
	t.Helper()
	want := m.visible(id)
	if got := ix.LookupAll(id); !sameLocations(got, want) {
		t.Fatalf("LookupAll(%s) = %+v, want %+v", id.Short(), got, want)
	}
	loc, ok := ix.Lookup(id)
	if ok != (len(want) > 0) || (ok && !slices.Contains(want, loc)) || ix.Has(id) != ok {
		t.Fatalf("Lookup(%s) = %+v, %v; want one of %+v", id.Short(), loc, ok, want)
	}
	return want
}

func checkIDs(t *testing.T, r *rand.Rand, ix *Index, m *model) {
	t.Helper()
	ids := []core.ID{randID(r)}
	for range 5 {
		if len(m.blobPool) > 0 {
			ids = append(ids, m.blobPool[r.IntN(len(m.blobPool))])
		}
	}
	for _, id := range ids {
		checkLookup(t, ix, m, id)
	}
	if ix.Len() != m.entries || ix.PackCount() != len(m.packs) {
		t.Fatalf("Len %d PackCount %d, want %d and %d", ix.Len(), ix.PackCount(), m.entries, len(m.packs))
	}
}

func checkAll(t *testing.T, ix *Index, m *model) {
	t.Helper()
	seen := map[core.ID][]Location{}
	for id, loc := range ix.Each {
		seen[id] = append(seen[id], loc)
	}
	byPack := map[core.ID][]Blob{}
	for id := range m.locs {
		want := m.visible(id)
		if !sameLocations(seen[id], want) {
			t.Fatalf("Each gave %+v for %s, want %+v", seen[id], id.Short(), want)
		}
		delete(seen, id)
		for _, l := range want {
			byPack[l.Pack] = append(byPack[l.Pack], Blob{ID: id, Type: l.Type, Offset: l.Offset, Length: l.Length, RawLength: l.RawLength})
		}
	}
	if len(seen) != 0 {
		t.Fatalf("Each visited %d unknown IDs", len(seen))
	}
	got := ix.PackBlobs()
	if len(got) != len(byPack) {
		t.Fatalf("PackBlobs has %d packs, want %d", len(got), len(byPack))
	}
	for pack, blobs := range got {
		if !slices.IsSortedFunc(blobs, func(a, b Blob) int { return int(int64(a.Offset) - int64(b.Offset)) }) {
			t.Fatalf("pack %s: blobs not sorted by offset", pack.Short())
		}
		if len(blobs) != len(byPack[pack]) {
			t.Fatalf("pack %s: %d blobs, want %d", pack.Short(), len(blobs), len(byPack[pack]))
		}
		for _, b := range blobs {
			if !slices.Contains(byPack[pack], b) {
				t.Fatalf("pack %s: unexpected blob %+v", pack.Short(), b)
			}
		}
	}
}

// TestConcurrentAddLookup runs writers and readers together; run it with
// -race. Blobs added before the readers start must always be found; blobs
// a writer has added must be found once AddPack returned.
func TestConcurrentAddLookup(t *testing.T) {
	ix := New()
	r := newRand(9)
	var before []core.ID
	for range 200 {
		b := randPack(r, 16)
		mustAdd(t, ix, randID(r), b...)
		before = append(before, b[0].ID, b[15].ID)
	}
	const writers, readers, packsEach = 2, 4, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			r := newRand(uint64(100 + w))
			for range packsEach {
				b := randPack(r, 16)
				if err := ix.AddPack(randID(r), b); err != nil {
					t.Error(err)
					return
				}
				if !ix.Has(b[7].ID) {
					t.Errorf("blob %s missing right after AddPack", b[7].ID.Short())
				}
			}
		})
	}
	for rd := range readers {
		wg.Go(func() {
			r := newRand(uint64(200 + rd))
			for i := range 3000 {
				id := before[r.IntN(len(before))]
				if _, ok := ix.Lookup(id); !ok {
					t.Errorf("Lookup(%s) missed an old blob", id.Short())
					return
				}
				if i%500 == 0 {
					ix.LookupAll(id)
					countEach(ix)
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			ix.Compact()
			ix.ExcludePacks(map[core.ID]struct{}{randID(newRand(1)): {}})
		}
	})
	wg.Wait()
	if want := 16 * (200 + writers*packsEach); ix.Len() != want {
		t.Fatalf("Len = %d, want %d", ix.Len(), want)
	}
}
