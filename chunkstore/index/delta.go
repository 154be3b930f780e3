package index

import (
	"hash/maphash"
	"math/bits"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// hashSeed keys the delta and pack hashes. Real IDs are uniform already;
// hashing them anyway keeps patterned IDs (tests, tools) from piling up in
// one probe run.
var hashSeed = maphash.MakeSeed()

func hashID(id *core.ID) uint64 { return maphash.Bytes(hashSeed, id[:]) }

// delta holds a shard's entries that are not merged yet: an append-only
// array and an open-addressing hash of positions in it (1 + index, 0 =
// empty), kept at most half full. Duplicates of an ID simply occupy several
// slots of one probe run. At 48 bytes per entry plus 8 to 16 of slots it
// costs half of a Go map keyed by core.ID, and its capacity stops at the
// merge threshold, so a full delta holds no slack.
type delta struct {
	ents  []entry
	slots []uint32
}

// each calls fn with every pending location of id until fn returns false,
// and reports whether fn always returned true.
func (d *delta) each(id *core.ID, fn func(meta) bool) bool {
	if len(d.slots) == 0 {
		return true
	}
	mask := uint64(len(d.slots) - 1)
	for i := hashID(id) & mask; d.slots[i] != 0; i = (i + 1) & mask {
		if e := &d.ents[d.slots[i]-1]; e.id == *id && !fn(e.m) {
			return false
		}
	}
	return true
}

// add appends an entry. limit is the size at which the shard merges, so
// growth stops there instead of doubling past it.
func (d *delta) add(id *core.ID, m meta, limit int) {
	if len(d.ents) == cap(d.ents) {
		d.grow(limit)
	}
	d.ents = append(d.ents, entry{id: *id, m: m})
	d.insert(len(d.ents) - 1)
}

func (d *delta) insert(i int) {
	mask := uint64(len(d.slots) - 1)
	s := hashID(&d.ents[i].id) & mask
	for d.slots[s] != 0 {
		s = (s + 1) & mask
	}
	d.slots[s] = uint32(i) + 1
}

func (d *delta) grow(limit int) {
	c := min(max(2*cap(d.ents), 8), limit)
	if c <= len(d.ents) {
		c = 2*len(d.ents) + 1 // past the limit: the caller merges soon
	}
	ents := make([]entry, len(d.ents), c)
	copy(ents, d.ents)
	d.ents = ents
	// A power of two of at least 2c slots keeps the load at most 1/2.
	d.slots = make([]uint32, 1<<bits.Len(uint(2*c-1)))
	for i := range d.ents {
		d.insert(i)
	}
}
