package index

import "github.com/cairnbackup/cairn/chunkstore/core"

// maxPacks bounds pack numbers to 31 bits: the top bit of the stored pack
// word carries the blob type. 2^31 packs of 16 MiB is 32 PiB, far past any
// repository one index has to hold.
const maxPacks = 1 << 31

// packTable numbers packs densely so that each index record needs 4 bytes
// for its pack instead of 32. The number is the position in ids.
//
// slots is an open-addressing hash set of pack numbers (value+1, 0 = empty)
// keyed by the pack ID, so that adding a pack that is already known (the same
// pack listed by two index files) reuses its number. A Go map keyed by
// core.ID would cost 40 to 80 bytes per pack; this costs 5 to 11.
type packTable struct {
	ids   []core.ID
	slots []uint32
}

// slot returns the position in slots where id lives or would be inserted.
func (t *packTable) slot(id *core.ID) int {
	mask := len(t.slots) - 1
	i := int(hashID(id)) & mask
	for {
		v := t.slots[i]
		if v == 0 || t.ids[v-1] == *id {
			return i
		}
		i = (i + 1) & mask
	}
}

// find returns the number of pack id, if known.
func (t *packTable) find(id *core.ID) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	v := t.slots[t.slot(id)]
	return v - 1, v != 0
}

// number returns the number of pack id, assigning the next one if the pack
// is new. ok is false only when the table is full.
func (t *packTable) number(id *core.ID) (num uint32, ok bool) {
	if n, found := t.find(id); found {
		return n, true
	}
	if uint64(len(t.ids)) >= maxPacks {
		return 0, false
	}
	// Keep the load under 3/4: linear probing stays short there, and the
	// table costs at most 4/(3/8) ≈ 11 bytes per pack right after growing.
	if 4*(len(t.ids)+1) > 3*len(t.slots) {
		t.grow()
	}
	num = uint32(len(t.ids))
	t.ids = append(t.ids, *id)
	t.slots[t.slot(id)] = num + 1
	return num, true
}

func (t *packTable) grow() {
	size := 2 * len(t.slots)
	if size < 64 {
		size = 64
	}
	t.slots = make([]uint32, size)
	for i := range t.ids {
		t.slots[t.slot(&t.ids[i])] = uint32(i) + 1
	}
}

// trim drops the spare capacity append leaves behind (up to a quarter of the
// table for large slices), so a compacted index holds exactly what it needs.
func (t *packTable) trim() {
	if cap(t.ids)-len(t.ids) > len(t.ids)/64 {
		ids := make([]core.ID, len(t.ids))
		copy(ids, t.ids)
		t.ids = ids
	}
}

// bitset marks excluded pack numbers. It is replaced, never modified in
// place, so iterators may keep reading an old one without the lock.
type bitset []uint64

func (b bitset) has(n uint32) bool {
	w := int(n / 64)
	return w < len(b) && b[w]&(1<<(n%64)) != 0
}

// with returns a copy of b, sized for npacks, with the bits in nums set.
func (b bitset) with(npacks int, nums []uint32) bitset {
	out := make(bitset, (npacks+63)/64)
	copy(out, b)
	for _, n := range nums {
		out[n/64] |= 1 << (n % 64)
	}
	return out
}
