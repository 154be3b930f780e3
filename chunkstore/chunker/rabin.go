package chunker

// This file finds chunk boundaries in memory, with the same results as
// github.com/restic/chunker (the reference, which the tests compare against)
// but several times faster.
//
// The Rabin fingerprint of a 64-byte window is linear: the digest at byte p
// is the window data[p-63..p] read as a polynomial, modulo the repository
// polynomial. The reference chunker never tests a position before MinSize
// bytes of the current chunk, by which point its window holds exactly the
// last 64 bytes, so each boundary test depends only on those 64 bytes and on
// the distance from the chunk start. That lets the search run as several
// independent lanes over neighbouring blocks at once: one lane alone is bound
// by the latency of its table lookups, four lanes keep the core busy.

const (
	windowSize = 64
	// splitMask gives about one candidate boundary per MiB (the reference's
	// default of 20 average bits).
	splitMask = 1<<20 - 1
	// lanes is how many blocks are scanned at once, and laneBlock the size of
	// each. Work past the first hit in a round is discarded: with 16 KiB
	// blocks that is under 3% of a 1 MiB average search, while the 64-byte
	// warm-up of each block costs 0.4%.
	lanes     = 4
	laneBlock = 16 << 10
)

// rabinTables hold, for one polynomial, the digest contribution of a byte
// leaving the window (out) and the reduction of the 8 bits that shifting
// pushes above the polynomial's degree (mod).
type rabinTables struct {
	out   [256]uint64
	mod   [256]uint64
	shift uint
}

func newRabinTables(pol Pol) *rabinTables {
	t := &rabinTables{shift: uint(pol.Deg() - 8)}
	for b := range 256 {
		// out[b] = b·x^(8·63) mod pol: the weight of b at the window's oldest slot.
		h := Pol(b)
		for range windowSize - 1 {
			h = (h << 8).Mod(pol)
		}
		t.out[b] = uint64(h)
		// mod[b] both cancels the top byte b and adds its residue.
		k := pol.Deg()
		t.mod[b] = uint64((Pol(b) << k).Mod(pol) | Pol(b)<<k)
	}
	return t
}

// digestOf returns the digest of window, exactly windowSize bytes.
func (t *rabinTables) digestOf(window []byte) uint64 {
	var d uint64
	sh := t.shift & 63
	for _, b := range window[:windowSize] {
		d = (d<<8 | uint64(b)) ^ t.mod[byte(d>>sh)]
	}
	return d
}

// nextCut returns the length of the chunk that starts at data[0], where
// data ends where the input ends.
func (t *rabinTables) nextCut(data []byte) int {
	n, _ := t.cut(data, true)
	return n
}

// cut returns the length of the chunk that starts at data[0]. With final
// set, data ends where the input does. Otherwise more input may follow, and
// cut reports false when the chunk's end is not decided yet: no boundary in
// data and fewer than MaxSize bytes.
func (t *rabinTables) cut(data []byte, final bool) (int, bool) {
	if len(data) <= MinSize {
		return len(data), final
	}
	// Positions MinSize-1 .. last may end a chunk; a chunk never exceeds MaxSize.
	last := min(len(data), MaxSize) - 1
	for p := MinSize - 1; p <= last; p += lanes * laneBlock {
		if hit := t.scanRound(data, p, last); hit >= 0 {
			return hit + 1, true
		}
	}
	if len(data) >= MaxSize {
		return MaxSize, true
	}
	return len(data), final
}

// scanRound looks for the first boundary in positions from..last, at most
// lanes*laneBlock of them, and returns it or -1.
func (t *rabinTables) scanRound(data []byte, from, last int) int {
	if last-from+1 < lanes*laneBlock {
		return t.scanOne(data, from, last)
	}
	return t.scanLanes(data, from)
}

// scanOne is the single-lane scan for the tail of a search.
func (t *rabinTables) scanOne(data []byte, from, last int) int {
	d := t.digestOf(data[from-windowSize : from])
	sh := t.shift & 63
	for p := from; p <= last; p++ {
		d ^= t.out[data[p-windowSize]]
		d = (d<<8 | uint64(data[p])) ^ t.mod[byte(d>>sh)]
		if d&splitMask == 0 {
			return p
		}
	}
	return -1
}

// scanLanes scans lanes full blocks from position from, all at once.
func (t *rabinTables) scanLanes(data []byte, from int) int {
	var in, old [lanes][]byte
	var d [lanes]uint64
	for k := range lanes {
		start := from + k*laneBlock
		in[k] = data[start : start+laneBlock]
		old[k] = data[start-windowSize : start-windowSize+laneBlock]
		d[k] = t.digestOf(data[start-windowSize : start])
	}
	hits := [lanes]int{-1, -1, -1, -1}
	d0, d1, d2, d3 := d[0], d[1], d[2], d[3]
	in0 := in[0]
	in1, in2, in3 := in[1][:len(in0)], in[2][:len(in0)], in[3][:len(in0)]
	old0, old1, old2, old3 := old[0][:len(in0)], old[1][:len(in0)], old[2][:len(in0)], old[3][:len(in0)]
	sh := t.shift & 63
	out, mod := &t.out, &t.mod
	for i := range in0 {
		d0 ^= out[old0[i]]
		d1 ^= out[old1[i]]
		d2 ^= out[old2[i]]
		d3 ^= out[old3[i]]
		d0 = (d0<<8 | uint64(in0[i])) ^ mod[byte(d0>>sh)]
		d1 = (d1<<8 | uint64(in1[i])) ^ mod[byte(d1>>sh)]
		d2 = (d2<<8 | uint64(in2[i])) ^ mod[byte(d2>>sh)]
		d3 = (d3<<8 | uint64(in3[i])) ^ mod[byte(d3>>sh)]
		if (d0&splitMask == 0) || (d1&splitMask == 0) || (d2&splitMask == 0) || (d3&splitMask == 0) {
			if d0&splitMask == 0 {
				return from + i // lane 0 comes first: nothing can beat it
			}
			noteHit(&hits, 1, d1, i)
			noteHit(&hits, 2, d2, i)
			noteHit(&hits, 3, d3, i)
		}
	}
	for k, h := range hits {
		if h >= 0 {
			return from + k*laneBlock + h
		}
	}
	return -1
}

// noteHit records the first boundary of lane k.
func noteHit(hits *[lanes]int, k int, d uint64, i int) {
	if d&splitMask == 0 && hits[k] < 0 {
		hits[k] = i
	}
}
