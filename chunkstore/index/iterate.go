package index

import (
	"cmp"
	"slices"
	"sort"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// view is a snapshot of the index taken shard by shard right after each
// shard is merged. Merged records, the pack IDs below len(packs) and the
// exclusion bitset are never modified in place, so a view is read without
// the lock and callbacks may call back into the index. Entries added while
// the view is taken may or may not be in it.
type view struct {
	shards   [256]shard
	base     [257]uint32 // global position of each shard's first record
	packs    []core.ID
	excluded bitset
}

func (ix *Index) view() *view {
	v := &view{}
	for i := range ix.shards {
		v.shards[i] = ix.compactShard(i)
		v.base[i+1] = v.base[i] + uint32(v.shards[i].n)
	}
	ix.mu.RLock()
	v.packs = ix.packs.ids
	v.excluded = ix.excluded
	ix.mu.RUnlock()
	return v
}

func (v *view) location(m meta) Location { return m.location(v.packs) }

func (v *view) blob(id *core.ID, m meta) Blob {
	return Blob{ID: *id, Type: m.blobType(), Offset: m.offset, Length: m.length, RawLength: m.raw}
}

// Each calls fn for every entry outside excluded packs, in ascending ID
// order (duplicates by pack number, then offset), until fn returns false.
// It first merges pending entries. fn may call other methods of the index;
// entries added meanwhile may or may not be visited. Each has the shape of
// iter.Seq2, so `for id, loc := range ix.Each` works. With a base segment,
// the segment is read sequentially and the in-memory entries are merged
// in; a read error of the segment stops the walk and is kept for WalkErr.
func (ix *Index) Each(fn func(id core.ID, loc Location) bool) {
	if base, excl := ix.baseSnapshot(); base != nil {
		ix.keepWalkErr(ix.eachWithBase(base, excl, fn))
		return
	}
	ix.eachMemory(fn)
}

func (ix *Index) eachMemory(fn func(id core.ID, loc Location) bool) {
	v := ix.view()
	for i := range v.shards {
		c := cursor{s: &v.shards[i], first: byte(i)}
		for c.next() {
			if v.excluded.has(c.m.packNum()) {
				continue
			}
			if !fn(c.id, v.location(c.m)) {
				return
			}
		}
	}
}

// EachPack calls fn once per pack that has entries outside the excluded
// packs, with its blobs sorted by offset, until fn returns false. Packs come
// in the order they were first added. blobs is reused between calls: copy
// it to keep it. Besides the index it needs 4 bytes per in-memory entry
// and 4 per pack while it runs, for the grouping. fn may call other
// methods of the index. With a base segment, the segment's packs come
// first, read sequentially in pack ID order, then the in-memory ones; a
// pack listed in both is visited twice, each time with its own blobs.
func (ix *Index) EachPack(fn func(pack core.ID, blobs []Blob) bool) {
	if base, excl := ix.baseSnapshot(); base != nil {
		ix.keepWalkErr(ix.eachPackWithBase(base, excl, fn))
		return
	}
	ix.eachPackMemory(fn)
}

func (ix *Index) eachPackMemory(fn func(pack core.ID, blobs []Blob) bool) {
	v := ix.view()
	ends, order := v.groupByPack()
	var blobs []Blob
	start := uint32(0)
	for p, end := range ends {
		if end == start {
			continue
		}
		blobs = blobs[:0]
		for _, pos := range order[start:end] {
			blobs = append(blobs, v.blobAt(pos))
		}
		start = end
		sortByOffset(blobs)
		if !fn(v.packs[p], blobs) {
			return
		}
	}
}

// groupByPack counting-sorts the visible records by pack number. It returns
// ends, where ends[p] is the end of pack p's run in order, and order, which
// holds global record positions (shard base + index in shard).
func (v *view) groupByPack() (ends []uint32, order []uint32) {
	ends = make([]uint32, len(v.packs))
	total := uint32(0)
	v.eachMeta(func(_ uint32, m meta) {
		ends[m.packNum()]++
		total++
	})
	// Turn counts into run starts; filling then advances each to its end.
	sum := uint32(0)
	for p, c := range ends {
		ends[p] = sum
		sum += c
	}
	order = make([]uint32, total)
	v.eachMeta(func(pos uint32, m meta) {
		p := m.packNum()
		order[ends[p]] = pos
		ends[p]++
	})
	return ends, order
}

// eachMeta calls fn with the global position and meta of every visible
// record.
func (v *view) eachMeta(fn func(pos uint32, m meta)) {
	pos := uint32(0)
	for i := range v.shards {
		s := &v.shards[i]
		for j := 0; j < s.n; j++ {
			if m := s.metaAt(j); !v.excluded.has(m.packNum()) {
				fn(pos, m)
			}
			pos++
		}
	}
}

// blobAt decodes the record at a global position.
func (v *view) blobAt(pos uint32) Blob {
	// The shard holding pos is the last one whose base is at or before it.
	first := sort.Search(256, func(i int) bool { return v.base[i+1] > pos })
	s := &v.shards[first]
	i := int(pos - v.base[first])
	var id core.ID
	id[0] = byte(first)
	if s.skip == 2 {
		// The bucket holding record i is the last one starting at or before it.
		id[1] = byte(sort.Search(256, func(b int) bool { return int(s.buckets[b+1]) > i }))
	}
	copy(id[s.skip:], s.key(i))
	return v.blob(&id, s.metaAt(i))
}

// PackBlobs returns the blobs of every pack with entries outside the
// excluded packs, each list sorted by offset. It copies the whole index into
// a map; for large repositories prefer EachPack.
func (ix *Index) PackBlobs() map[core.ID][]Blob {
	out := make(map[core.ID][]Blob)
	ix.EachPack(func(pack core.ID, blobs []Blob) bool {
		if have, ok := out[pack]; ok {
			out[pack] = mergeBlobs(have, blobs)
		} else {
			out[pack] = slices.Clone(blobs)
		}
		return true
	})
	return out
}

// WalkErr returns the first error a walk (Each, EachPack) or a lookup met
// reading the base segment, or nil. Such a walk stopped early and such a
// lookup answered "not found"; check and prune fail on it.
func (ix *Index) WalkErr() error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.walkErr == nil && ix.base != nil {
		return ix.base.ReadErr()
	}
	return ix.walkErr
}

func (ix *Index) keepWalkErr(err error) {
	if err == nil {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.walkErr == nil {
		ix.walkErr = err
	}
}

// sortByOffset orders a pack's blobs as EachPack promises.
func sortByOffset(blobs []Blob) {
	slices.SortFunc(blobs, func(a, b Blob) int {
		if c := cmp.Compare(a.Offset, b.Offset); c != 0 {
			return c
		}
		return compareEntries(entry{id: a.ID}, entry{id: b.ID})
	})
}
