// Package index maps blob IDs to where the blobs are stored, and reads and
// writes the index files that persist that map.
//
// Backup asks the index whether a chunk is already stored before it uploads
// it; restore, check and prune ask where a blob lives. A 100 TB repository
// holds about 100 million blobs. Without a segment (below) every one of
// them is in memory while a backup runs, so the in-memory layout is built
// around bytes per entry.
//
// # Memory layout
//
// Entries are split into 256 shards by the first byte of the blob ID. Each
// shard keeps its entries in one []byte of fixed-size records sorted by ID,
// with no pointers and no padding:
//
//	ID without its implied leading bytes   30 or 31 bytes
//	pack word: pack number, tree bit       uint32 (bit 31 set for tree blobs)
//	offset in the pack                     uint32
//	stored length                          uint24
//	raw length                             uint24
//
// The first ID byte is implied by the shard. Once a shard has 1024 records
// it also gets a bucket table on the second ID byte (257 uint32 offsets), so
// that byte is implied too and a record is 44 bytes. The pack word holds a
// number into the pack table, a []core.ID in the order packs were first
// added, with an open-addressing hash of pack numbers beside it so that
// adding a known pack reuses its number. Packs excluded by prune are a
// bitset over pack numbers.
//
// New entries go into a per-shard delta (an array with a small
// open-addressing hash) and are merged into the records, in a new array of
// exactly the right size, once the delta passes 1/64 of the shard. Merging one shard at a time keeps the lock hold
// short (about 1/256 of the index is copied) and the transient memory small.
//
// Lookups search the bucket by interpolation: IDs are keyed hashes, so a
// key's position is predictable and the search touches one or two cache
// lines where a binary search would take a cache miss per step.
//
// # Invariants
//
//   - A shard's records are strictly increasing by (ID, pack number, offset,
//     length, raw length): the same entry is never stored twice, whether it
//     is added twice or by two index files.
//   - Every stored entry has a valid type, 0 < length ≤ MaxBlobSize,
//     raw length ≤ MaxBlobSize and offset+length < 2^32.
//   - A record array and its bucket table are never written after the merge
//     that creates them; a merge replaces them. Pack IDs at positions below
//     len(pack table) never change, and the exclusion bitset is replaced,
//     not modified. Iterators rely on this to read a snapshot without the
//     lock, so their callbacks may call back into the index.
//   - Pack numbers are never reused; exclusion only hides entries, and Len
//     counts every stored entry.
//
// # Concurrency
//
// One sync.RWMutex guards the index. Lookups take it for reading and do not
// allocate. Measured on the 2-core development machine, a lookup in a 4M
// entry index costs about 345 ns for a hit and 300 ns for a miss, and two
// goroutines together do one every 155 ns, 2.1 times the throughput:
// lookups wait on memory (one dependent DRAM miss costs about 170 ns
// there), not on the lock, so nothing finer is warranted.
//
// # Measured size
//
// BenchmarkIndexMemory10M (10 million random blobs, 16 per pack, heap
// growth after a GC) measures 46.56 bytes per entry after Compact: 44 for
// records, 2 for pack IDs, 0.4 for the pack hash, 0.03 for bucket tables.
// Without Compact, deltas pending, it measured 46.76; a delta is capped at
// 1/64 of its shard at about 60 bytes per entry, so the worst case is about
// 47.6. Adding costs about 1.3 µs per blob in a 4M entry index: a third is
// the duplicate check, which is a lookup, and half is merging, which is
// memory bandwidth.
//
// # On-disk segments
//
// An index need not fit in memory: SetBase puts an immutable Segment
// under the in-memory entries, which then only hold what was added since
// (a writer's delta). A segment is built by SegmentBuilder, which sorts
// entries on disk (chunkstore/internal/extsort) within a memory budget,
// and holds every entry twice, sorted by blob ID and by pack, each record
// naming its pack in full (77 bytes). Beside the records are fence
// pointers (the first 8 key bytes of every block of 64 records) and, for
// the ID order, a binary fuse filter per 4096th of the ID space
// (github.com/FastFilter/xorfilter, 8-bit fingerprints, about 1.13 bytes
// per entry). Filter and fences are memory-mapped, touched only where
// lookups go; records are read with pread, one block of at most 128
// records per lookup, so they are never resident in the process.
//
// A lookup asks the in-memory entries, then the filter, which rejects
// about 255 of 256 absent IDs without a disk read; then the fences bound
// the block to read. Walks (Each, EachPack) read the segment files
// sequentially and merge in the in-memory entries, so their memory does
// not grow with the segment. Entries the segment holds are not added to
// memory again, and excluding a pack applies to both layers. The byte
// layout is in FORMAT.md, "Index cache"; chunkstore/repo builds, names
// and replaces segments.
//
// # Index file format
//
// An index file's plaintext (the repository encrypts and compresses it) is,
// little-endian:
//
//	magic      8 bytes  "CAIRNIDX"
//	version    1 byte   = 1
//	nsuper     uint32   number of superseded index files
//	super      nsuper × 32-byte index-file IDs this file replaces (written by prune)
//	npacks     uint32
//	per pack:
//	  pack id  32 bytes
//	  nblobs   uint32
//	  per blob: type uint8 | blob id 32 bytes | offset uint32 | length uint32 | raw length uint32   (45 bytes)
//
// Nothing follows the last pack. A reader rejects the file if the magic is
// wrong, the version is not 1 (a higher one means a newer cairn wrote it),
// a count asks for more bytes than remain, a blob type is not 1 (data) or 2
// (tree), a stored length is 0 or above 2^24-1, a raw length is above
// 2^24-1, offset+length exceeds 2^32-1, or bytes follow the last pack. A
// raw length of 0 and a pack with no blobs are valid. Every file has exactly
// one encoding, so re-encoding a decoded file gives back the same bytes.
package index
