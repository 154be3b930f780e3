package index

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// idOf returns an ID starting with prefix and zero elsewhere, so tests can
// aim entries at one shard or bucket.
func idOf(prefix ...byte) core.ID {
	var id core.ID
	copy(id[:], prefix)
	return id
}

// randID draws an ID from r; blob and pack IDs are uniformly random.
func randID(r *rand.Rand) core.ID {
	var id core.ID
	for i := 0; i < core.IDSize; i += 8 {
		binary.LittleEndian.PutUint64(id[i:], r.Uint64())
	}
	return id
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func dataBlob(id core.ID, offset, length uint32) Blob {
	return Blob{ID: id, Type: core.DataBlob, Offset: offset, Length: length, RawLength: length + 7}
}

// randPack returns n valid blobs with fresh random IDs laid out back to back.
func randPack(r *rand.Rand, n int) []Blob {
	blobs := make([]Blob, n)
	off := uint32(0)
	for i := range blobs {
		l := 1 + r.Uint32N(MaxBlobSize)
		blobs[i] = Blob{ID: randID(r), Type: core.BlobType(1 + r.IntN(2)), Offset: off, Length: l, RawLength: r.Uint32N(MaxBlobSize + 1)}
		off += l
	}
	return blobs
}

func mustAdd(t testing.TB, ix *Index, pack core.ID, blobs ...Blob) {
	t.Helper()
	if err := ix.AddPack(pack, blobs); err != nil {
		t.Fatalf("AddPack(%s): %v", pack.Short(), err)
	}
}

func locOf(pack core.ID, b Blob) Location {
	return Location{Pack: pack, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}
}

// sameLocations compares location lists ignoring order, which the index
// does not promise for duplicates.
func sameLocations(a, b []Location) bool {
	return slices.Equal(sortLocations(a), sortLocations(b))
}

func sortLocations(s []Location) []Location {
	s = slices.Clone(s)
	slices.SortFunc(s, func(x, y Location) int {
		if c := bytes.Compare(x.Pack[:], y.Pack[:]); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Offset, y.Offset); c != 0 {
			return c
		}
		return cmp.Compare(x.Length, y.Length)
	})
	return s
}
