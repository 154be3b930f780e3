package index

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// MaxBlobSize is the largest stored or raw length of a blob. Records keep
// both lengths in 24 bits; the chunker and tree encoder stay below it.
const MaxBlobSize = 1<<24 - 1

// ErrInvalidEntry is wrapped by every error about an entry that cannot be
// indexed: a bad blob type, a zero or oversized length, an offset overflow.
var ErrInvalidEntry = errors.New("invalid index entry")

// Blob is one blob inside a pack, as written to index files.
type Blob struct {
	ID        core.ID
	Type      core.BlobType
	Offset    uint32 // where the stored blob starts in the pack
	Length    uint32 // stored length: compressed and encrypted
	RawLength uint32 // plaintext length
}

// Location says where a blob is stored.
type Location struct {
	Pack      core.ID
	Type      core.BlobType
	Offset    uint32
	Length    uint32
	RawLength uint32
}

// Index maps blob IDs to the packs that hold them. It is safe for
// concurrent use. The zero value is an empty index; New is a convenience.
type Index struct {
	mu       sync.RWMutex
	shards   [256]shard
	packs    packTable
	excluded bitset
	count    int
	// base is the on-disk segment under the in-memory entries, nil when
	// the whole index is in memory; baseExcl are its excluded packs,
	// replaced rather than modified.
	base     *Segment
	baseExcl map[core.ID]struct{}
	walkErr  error
	present  atomic.Bool // see ExpectPresent
}

// New returns an empty index.
func New() *Index {
	return &Index{}
}

// CheckBlob reports whether b can be indexed, with an error wrapping
// ErrInvalidEntry that names the blob and what is wrong.
func CheckBlob(b Blob) error {
	var problem string
	switch {
	case !b.Type.Valid():
		problem = fmt.Sprintf("unknown blob type %d", uint8(b.Type))
	case b.Length == 0:
		problem = "stored length is 0"
	case b.Length > MaxBlobSize:
		problem = fmt.Sprintf("stored length %d exceeds %d", b.Length, MaxBlobSize)
	case b.RawLength > MaxBlobSize:
		problem = fmt.Sprintf("raw length %d exceeds %d", b.RawLength, MaxBlobSize)
	case uint64(b.Offset)+uint64(b.Length) > math.MaxUint32:
		problem = fmt.Sprintf("offset %d + length %d overflows 32 bits", b.Offset, b.Length)
	default:
		return nil
	}
	return fmt.Errorf("blob %s: %s: %w", b.ID.Short(), problem, ErrInvalidEntry)
}

// AddPack records that pack holds blobs. It checks every blob first and adds
// nothing if one is invalid. Adding a pack again, or an entry that is
// already known, is harmless: identical entries are stored once, so loading
// two index files that list the same pack does not double anything.
func (ix *Index) AddPack(pack core.ID, blobs []Blob) error {
	for _, b := range blobs {
		if err := CheckBlob(b); err != nil {
			return fmt.Errorf("add pack %s: %w", pack.Short(), err)
		}
	}
	return ix.addPackLocking(pack, blobs)
}

func (ix *Index) addPackLocking(pack core.ID, blobs []Blob) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.addLocked(pack, blobs)
}

func (ix *Index) addLocked(pack core.ID, blobs []Blob) error {
	// Iterators address entries with uint32 positions.
	if uint64(ix.count)+uint64(len(blobs)) > math.MaxUint32 {
		return fmt.Errorf("add pack %s: index full: %d entries", pack.Short(), ix.count)
	}
	num, ok := ix.packs.number(&pack)
	if !ok {
		return fmt.Errorf("add pack %s: index full: %d packs", pack.Short(), len(ix.packs.ids))
	}
	for i := range blobs {
		b := &blobs[i]
		m := meta{pack: num, offset: b.Offset, length: b.Length, raw: b.RawLength}
		if b.Type == core.TreeBlob {
			m.pack |= treeBit
		}
		s := &ix.shards[b.ID[0]]
		if s.has(&b.ID, m) || ix.baseHas(&pack, b) {
			continue
		}
		s.add(&b.ID, m)
		ix.count++
		if s.wantsMerge() {
			s.merge(b.ID[0])
		}
	}
	return nil
}

// location turns a record's meta into a Location. Caller holds the lock.
func (ix *Index) location(m meta) Location { return m.location(ix.packs.ids) }

// Lookup returns where blob id is stored. When several packs hold it, any
// one that is not excluded is returned. It does not allocate.
func (ix *Index) Lookup(id core.ID) (Location, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var loc Location
	found := false
	ix.shards[id[0]].each(&id, func(m meta) bool {
		if ix.excluded.has(m.packNum()) {
			return true
		}
		loc, found = ix.location(m), true
		return false
	})
	if !found {
		ix.eachBase(&id, func(l Location, excluded bool) bool {
			loc, found = l, !excluded
			return excluded
		})
	}
	return loc, found
}

// LookupAny returns a location of blob id, in an excluded pack if there is
// no other. A blob whose only pack was lost still has a known length and a
// pack to name, so a restore can place the chunks after it and say where
// it was, and a repair can leave a hole of the right size.
func (ix *Index) LookupAny(id core.ID) (Location, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var loc Location
	found, visible := false, false
	ix.shards[id[0]].each(&id, func(m meta) bool {
		loc, found = ix.location(m), true
		visible = !ix.excluded.has(m.packNum())
		return !visible // go on looking for a visible one
	})
	if visible {
		return loc, true
	}
	ix.eachBase(&id, func(l Location, excluded bool) bool {
		if !found || !excluded {
			loc, found = l, true
		}
		return excluded
	})
	return loc, found
}

// Has reports whether blob id is stored in a pack that is not excluded.
func (ix *Index) Has(id core.ID) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	found := false
	ix.shards[id[0]].each(&id, func(m meta) bool {
		found = !ix.excluded.has(m.packNum())
		return !found
	})
	if !found {
		ix.eachBase(&id, func(_ Location, excluded bool) bool {
			found = !excluded
			return !found
		})
	}
	return found
}

// LookupAll returns every location of blob id outside excluded packs, or
// nil. Check and prune use it to see duplicates.
func (ix *Index) LookupAll(id core.ID) []Location {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []Location
	ix.shards[id[0]].each(&id, func(m meta) bool {
		if !ix.excluded.has(m.packNum()) {
			out = append(out, ix.location(m))
		}
		return true
	})
	ix.eachBase(&id, func(l Location, excluded bool) bool {
		if !excluded {
			out = append(out, l)
		}
		return true
	})
	return out
}

// Len returns the number of stored entries, counting a blob once per pack
// that holds it, and counting entries in excluded packs.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.base != nil {
		return ix.count + int(ix.base.info.Entries)
	}
	return ix.count
}

// PackCount returns the number of distinct packs added, excluded or not.
// With a base segment it is the segment's packs plus those added in
// memory, so a pack in both counts twice.
func (ix *Index) PackCount() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.base != nil {
		return len(ix.packs.ids) + int(ix.base.info.Packs)
	}
	return len(ix.packs.ids)
}

// ExcludePacks hides every entry in the given packs from lookups and
// iteration, for packs that prune is about to delete. Exclusion adds to
// earlier calls and cannot be undone. It applies to the packs known now:
// a pack in set that is added later is not excluded.
func (ix *Index) ExcludePacks(set map[core.ID]struct{}) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	nums := make([]uint32, 0, len(set))
	for id := range set {
		n, ok := ix.packs.find(&id)
		if !ok && ix.base != nil && ix.base.hasPack(&id) {
			// Known to the segment: number it in memory too, so entries
			// of it added later are excluded as well.
			n, ok = ix.packs.number(&id)
		}
		if ok {
			nums = append(nums, n)
		}
	}
	ix.excluded = ix.excluded.with(len(ix.packs.ids), nums)
	ix.excludeBase(set)
}

// Compact merges every pending entry into the sorted records and trims the
// pack table, leaving the index at its smallest. Lookups see the same
// entries before and after; it exists so that memory can be measured in the
// steady state and before long read-only phases.
func (ix *Index) Compact() {
	for i := range ix.shards {
		ix.compactShard(i)
	}
	ix.mu.Lock()
	ix.packs.trim()
	ix.mu.Unlock()
}

// compactShard merges one shard under the write lock and returns its
// records, which stay valid without the lock because they are never
// modified. Taking the lock per shard keeps lookups from stalling behind a
// merge of the whole index.
func (ix *Index) compactShard(i int) shard {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s := &ix.shards[i]
	s.merge(byte(i))
	return shard{recs: s.recs, n: s.n, skip: s.skip, buckets: s.buckets}
}
