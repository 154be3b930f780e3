package index

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// blobsPerPack is what 16 MiB packs of ~1 MiB chunks give.
const blobsPerPack = 16

// fillIndex adds entries random blobs in packs of perPack, reusing one
// buffer so the caller's heap measurement sees only the index.
func fillIndex(ix *Index, r *rand.Rand, entries, perPack int) {
	blobs := make([]Blob, perPack)
	for done := 0; done < entries; done += perPack {
		for i := range blobs {
			blobs[i] = Blob{ID: randID(r), Type: core.DataBlob, Offset: uint32(i) << 20, Length: 1 << 20, RawLength: 1 << 20}
		}
		if err := ix.AddPack(randID(r), blobs[:min(perPack, entries-done)]); err != nil {
			panic(err) // the blobs are valid by construction
		}
	}
}

// liveHeap returns the bytes of heap objects still reachable after a full
// collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkIndexMemory10M reports the heap held per entry by an index of 10
// million blobs in packs of 16: records, bucket tables, the pack table and
// its hash slots, everything reachable from the Index. bytes/entry is after
// Compact, the steady state; bytes/entry-pending is just before it, with up
// to 1/32 of each shard still in its delta.
func BenchmarkIndexMemory10M(b *testing.B) {
	const entries = 10_000_000
	for range b.N {
		before := liveHeap()
		ix := New()
		fillIndex(ix, newRand(42), entries, blobsPerPack)
		pending := liveHeap()
		ix.Compact()
		after := liveHeap()
		runtime.KeepAlive(ix)
		b.ReportMetric(float64(pending-before)/entries, "bytes/entry-pending")
		b.ReportMetric(float64(after-before)/entries, "bytes/entry")
	}
}

// benchIndex is a 4M-entry index shared by the lookup benchmarks, with a
// sample of the IDs it holds.
var benchIndex = sync.OnceValues(func() (*Index, []core.ID) {
	ix := New()
	r := newRand(7)
	fillIndex(ix, r, 4_000_000, blobsPerPack)
	ix.Compact()
	// Replay the generator to collect IDs that are in the index.
	r = newRand(7)
	hits := make([]core.ID, 0, 1<<16)
	for len(hits) < cap(hits) {
		for range blobsPerPack {
			hits = append(hits, randID(r))
		}
		randID(r) // the pack ID
	}
	return ix, hits
})

func BenchmarkLookup(b *testing.B) {
	ix, hits := benchIndex()
	r := newRand(8)
	misses := make([]core.ID, len(hits))
	for i := range misses {
		misses[i] = randID(r)
	}
	for _, c := range []struct {
		name string
		ids  []core.ID
		want bool
	}{{"hit", hits, true}, {"miss", misses, false}} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, ok := ix.Lookup(c.ids[i&(len(c.ids)-1)]); ok != c.want {
					b.Fatal("wrong answer")
				}
				i++
			}
		})
		b.Run(c.name+"-parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					ix.Lookup(c.ids[i&(len(c.ids)-1)])
					i++
				}
			})
		})
	}
}

// BenchmarkInsert adds packs of 16 new blobs to an index that starts at 4M
// entries, merges included; ns/blob is the cost per entry.
func BenchmarkInsert(b *testing.B) {
	ix := New()
	r := newRand(11)
	fillIndex(ix, r, 4_000_000, blobsPerPack)
	blobs := make([]Blob, blobsPerPack)
	n := 0
	for b.Loop() {
		for i := range blobs {
			blobs[i] = Blob{ID: randID(r), Type: core.DataBlob, Offset: uint32(i) << 20, Length: 1 << 20, RawLength: 1 << 20}
		}
		if err := ix.AddPack(randID(r), blobs); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*blobsPerPack), "ns/blob")
}
