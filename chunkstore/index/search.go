package index

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// Blob IDs are keyed hashes, so within a bucket the stored keys are
// uniformly spread and a record's position is predictable from its key:
// the record for key k sits near lo + k/2^64·(hi-lo). Searching outward
// from that guess touches one or two cache lines of a large index where a
// plain binary search would miss the cache at every one of its ~8 steps.
// A bad guess (IDs that are not random, as in tests) only costs the
// doubling steps; the result is the same.

// span returns the records that may hold id (lo is the first with an ID not
// less than id), and the part of id that records store.
func (s *shard) span(id *core.ID) (lo, hi int, key []byte) {
	if s.n == 0 {
		return 0, 0, nil
	}
	lo, hi = 0, s.n
	if s.skip == 2 {
		lo, hi = int(s.buckets[id[1]]), int(s.buckets[int(id[1])+1])
	}
	key = id[s.skip:]
	if lo == hi {
		return lo, hi, key
	}
	k64 := binary.BigEndian.Uint64(key)
	guess, _ := bits.Mul64(k64, uint64(hi-lo))
	return s.lowerBound(lo, hi, lo+int(guess), key, k64), hi, key
}

// less reports whether record i sorts before key, whose first 8 bytes are
// k64. Comparing those as one integer settles nearly every comparison.
func (s *shard) less(i int, key []byte, k64 uint64) bool {
	r64 := binary.BigEndian.Uint64(s.key(i))
	if r64 != k64 {
		return r64 < k64
	}
	return bytes.Compare(s.key(i), key) < 0
}

// lowerBound returns the first record in [lo, hi) not less than key, or hi,
// starting from guess in [lo, hi): it doubles its steps away from the guess
// until it has bracketed the answer, then bisects the bracket.
func (s *shard) lowerBound(lo, hi, guess int, key []byte, k64 uint64) int {
	if s.less(guess, key, k64) {
		lo = guess + 1
		for step := 1; lo < hi; step *= 2 {
			probe := lo + step - 1
			if probe >= hi {
				break
			}
			if !s.less(probe, key, k64) {
				hi = probe
				break
			}
			lo = probe + 1
		}
	} else {
		hi = guess
		for step := 1; lo < hi; step *= 2 {
			probe := hi - step
			if probe < lo {
				break
			}
			if s.less(probe, key, k64) {
				lo = probe + 1
				break
			}
			hi = probe
		}
	}
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.less(mid, key, k64) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}
