package index

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

const (
	// metaSize is the packed location of one record: pack word (pack number,
	// blob type in the top bit) uint32, offset uint32, stored length uint24,
	// raw length uint24, all little-endian.
	metaSize = 14

	// treeBit marks a tree blob in the pack word; data blobs leave it clear.
	treeBit = 1 << 31

	// bucketMin is the shard size from which a bucket table on the second ID
	// byte pays for itself: the table costs 257×4 bytes and lets every
	// record drop that byte.
	bucketMin = 1024

	// minDelta and deltaRatio decide when a shard's delta is merged into its
	// sorted records. A delta entry costs 56 to 64 bytes, so a delta of at
	// most 1/64 of the shard adds at most 1 byte per entry, which keeps an
	// uncompacted index under 48 too. The price is that each merge copies
	// the shard for 1/64 of its size in new entries: about 64 record copies
	// (2.8 KB of memmove, ~0.2 µs) per insert.
	minDelta   = 32
	deltaRatio = 64
)

// meta is the unpacked form of a record's location.
type meta struct {
	pack   uint32 // pack number | treeBit
	offset uint32
	length uint32
	raw    uint32
}

func (m meta) packNum() uint32 { return m.pack &^ treeBit }

func (m meta) blobType() core.BlobType {
	if m.pack&treeBit != 0 {
		return core.TreeBlob
	}
	return core.DataBlob
}

// location expands m, with packs the pack table it was numbered in.
func (m meta) location(packs []core.ID) Location {
	return Location{
		Pack: packs[m.packNum()], Type: m.blobType(),
		Offset: m.offset, Length: m.length, RawLength: m.raw,
	}
}

func (m meta) put(b []byte) {
	_ = b[metaSize-1]
	binary.LittleEndian.PutUint32(b[0:], m.pack)
	binary.LittleEndian.PutUint32(b[4:], m.offset)
	b[8], b[9], b[10] = byte(m.length), byte(m.length>>8), byte(m.length>>16)
	b[11], b[12], b[13] = byte(m.raw), byte(m.raw>>8), byte(m.raw>>16)
}

func getMeta(b []byte) meta {
	_ = b[metaSize-1]
	return meta{
		pack:   binary.LittleEndian.Uint32(b[0:]),
		offset: binary.LittleEndian.Uint32(b[4:]),
		length: uint32(b[8]) | uint32(b[9])<<8 | uint32(b[10])<<16,
		raw:    uint32(b[11]) | uint32(b[12])<<8 | uint32(b[13])<<16,
	}
}

// shard holds every entry whose ID starts with one byte value.
//
// recs is a flat array of n records sorted by ID, each the ID without its
// first skip bytes followed by metaSize bytes of meta. The first byte is
// implied by the shard. When the shard has at least bucketMin records,
// skip is 2 and buckets[b]:buckets[b+1] is the run of records whose second
// ID byte is b, so that byte is implied too. recs and buckets are never
// written after a merge creates them, which lets iterators read them without
// the lock.
//
// New entries go to the delta first and are merged into recs once there are
// more than mergeAt of them.
type shard struct {
	recs    []byte
	n       int
	skip    int
	buckets []uint32

	delta delta
}

func stride(skip int) int { return core.IDSize - skip + metaSize }

func (s *shard) key(i int) []byte {
	st := stride(s.skip)
	return s.recs[i*st : i*st+core.IDSize-s.skip]
}

func (s *shard) metaAt(i int) meta {
	st := stride(s.skip)
	return getMeta(s.recs[(i+1)*st-metaSize : (i+1)*st])
}

// each calls fn with every location stored for id, sorted records first,
// until fn returns false.
func (s *shard) each(id *core.ID, fn func(meta) bool) {
	lo, hi, key := s.span(id)
	for i := lo; i < hi && bytes.Equal(s.key(i), key); i++ {
		if !fn(s.metaAt(i)) {
			return
		}
	}
	s.delta.each(id, fn)
}

// has reports whether exactly this entry is already stored.
func (s *shard) has(id *core.ID, m meta) bool {
	found := false
	s.each(id, func(x meta) bool {
		found = x == m
		return !found
	})
	return found
}

// add puts an entry in the delta. The caller has checked it is new.
func (s *shard) add(id *core.ID, m meta) {
	s.delta.add(id, m, s.mergeAt()+1)
}

// pending returns the number of entries in the delta.
func (s *shard) pending() int { return len(s.delta.ents) }

func (s *shard) mergeAt() int { return max(minDelta, s.n/deltaRatio) }

func (s *shard) wantsMerge() bool { return s.pending() > s.mergeAt() }

// entry is a full ID with its location, used while merging and iterating.
type entry struct {
	id core.ID
	m  meta
}

// compareEntries orders by ID, then duplicates by pack number, offset and
// lengths, so the records of a shard depend only on what it holds.
func compareEntries(a, b entry) int {
	if c := bytes.Compare(a.id[:], b.id[:]); c != 0 {
		return c
	}
	return compareMeta(a.m, b.m)
}

func compareMeta(a, b meta) int {
	return cmp.Or(cmp.Compare(a.pack&^treeBit, b.pack&^treeBit), cmp.Compare(a.offset, b.offset),
		cmp.Compare(a.length, b.length), cmp.Compare(a.raw, b.raw), cmp.Compare(a.pack, b.pack))
}

// takeDelta empties the delta and returns its entries sorted.
func (s *shard) takeDelta() []entry {
	out := s.delta.ents
	s.delta = delta{}
	slices.SortFunc(out, compareEntries)
	return out
}

// merge folds the delta into a new, exactly sized record array. first is
// the shard's own ID byte. Records end up in compareEntries order whatever
// order they were added in.
func (s *shard) merge(first byte) {
	if s.pending() == 0 {
		return
	}
	add := s.takeDelta()
	if s.n > 0 && s.skip == skipFor(s.n+len(add)) {
		s.mergeRuns(add)
		return
	}
	// The layout changes (first merge, or the shard just grew buckets):
	// rebuild every record from its full ID.
	w := newWriter(s.n + len(add))
	c := cursor{s: s, first: first}
	for c.next() {
		for len(add) > 0 && compareEntries(add[0], entry{id: c.id, m: c.m}) < 0 {
			w.put(&add[0].id, add[0].m)
			add = add[1:]
		}
		w.put(&c.id, c.m)
	}
	for i := range add {
		w.put(&add[i].id, add[i].m)
	}
	s.recs, s.n, s.skip, s.buckets = w.finish()
}

func skipFor(n int) int {
	if n >= bucketMin {
		return 2
	}
	return 1
}

// mergeRuns merges when the layout stays the same: the old records between
// two new ones are copied as one block, so a merge costs about a memmove of
// the shard. New entries come sorted, so each one's place is found by
// galloping forward from the previous one, which stays in memory the copy
// streams through anyway.
func (s *shard) mergeRuns(add []entry) {
	st := stride(s.skip)
	recs := make([]byte, (s.n+len(add))*st)
	var below [257]uint32 // below[b+1]: new entries whose second ID byte is b
	from, out := 0, 0
	for i := range add {
		e := &add[i]
		at := s.scanTo(from, e)
		out += copy(recs[out:], s.recs[from*st:at*st])
		from = at
		copy(recs[out:], e.id[s.skip:])
		e.m.put(recs[out+core.IDSize-s.skip : out+st])
		out += st
		below[int(e.id[1])+1]++
	}
	copy(recs[out:], s.recs[from*st:])
	if s.buckets != nil {
		buckets := make([]uint32, len(s.buckets))
		sum := uint32(0)
		for b := range buckets {
			sum += below[b]
			buckets[b] = s.buckets[b] + sum
		}
		s.buckets = buckets
	}
	s.recs, s.n = recs, s.n+len(add)
}

// scanTo returns the index of the first record at or after from that sorts
// after e. Records before from sort before e.
func (s *shard) scanTo(from int, e *entry) int {
	lo, hi := 0, s.n
	if s.skip == 2 {
		lo, hi = int(s.buckets[e.id[1]]), int(s.buckets[int(e.id[1])+1])
	}
	key := e.id[s.skip:]
	i := max(from, lo)
	if i < hi {
		// Gallop from the last insert point: the next one is typically
		// deltaRatio records on, a few probes away.
		i = s.lowerBound(i, hi, i, key, binary.BigEndian.Uint64(key))
	}
	for i < hi && bytes.Equal(s.key(i), key) && compareMeta(s.metaAt(i), e.m) < 0 {
		i++
	}
	return i
}

// cursor walks a shard's sorted records in order, rebuilding full IDs.
type cursor struct {
	s      *shard
	first  byte
	i      int // index of the next record
	bucket int
	id     core.ID
	m      meta
}

func (c *cursor) next() bool {
	s := c.s
	if c.i >= s.n {
		return false
	}
	c.id[0] = c.first
	if s.skip == 2 {
		for int(s.buckets[c.bucket+1]) <= c.i {
			c.bucket++
		}
		c.id[1] = byte(c.bucket)
	}
	copy(c.id[s.skip:], s.key(c.i))
	c.m = s.metaAt(c.i)
	c.i++
	return true
}

// writer builds a shard's record array and bucket table.
type writer struct {
	recs    []byte
	n, pos  int
	skip    int
	buckets []uint32
}

func newWriter(n int) *writer {
	w := &writer{n: n, skip: skipFor(n)}
	if w.skip == 2 {
		w.buckets = make([]uint32, 257)
	}
	w.recs = make([]byte, n*stride(w.skip))
	return w
}

func (w *writer) put(id *core.ID, m meta) {
	st := stride(w.skip)
	rec := w.recs[w.pos : w.pos+st]
	copy(rec, id[w.skip:])
	m.put(rec[core.IDSize-w.skip:])
	w.pos += st
	if w.buckets != nil {
		w.buckets[int(id[1])+1]++
	}
}

func (w *writer) finish() (recs []byte, n, skip int, buckets []uint32) {
	for b := 1; b < len(w.buckets); b++ {
		w.buckets[b] += w.buckets[b-1]
	}
	return w.recs, w.n, w.skip, w.buckets
}
