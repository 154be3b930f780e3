package index

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// SetBase puts segment seg under the in-memory entries: lookups and walks
// see both, and entries the segment holds are not added to memory again.
// The index owns seg from then on and closes it in Close. Call it before
// adding entries; entries already in memory that the segment also holds
// would be seen twice.
func (ix *Index) SetBase(seg *Segment) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.base = seg
	ix.baseExcl = nil
}

// Base returns the index's segment, or nil.
func (ix *Index) Base() *Segment {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.base
}

// Close releases the base segment, if any. The index must not be used
// afterwards.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.base == nil {
		return nil
	}
	err := ix.base.Close()
	ix.base = nil
	return err
}

// ExpectPresent tells lookups whether the IDs asked for are expected to be
// stored, as in a restore plan or a check. They then skip the segment's
// filter, which would answer yes anyway: a process looking up millions of
// stored IDs would otherwise make every page of the filter resident
// (1.24 bytes per entry).
func (ix *Index) ExpectPresent(on bool) { ix.present.Store(on) }

// MemoryEntries returns how many entries are held in memory, beside the
// base segment: the writer's delta.
func (ix *Index) MemoryEntries() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.count
}

// eachBase calls fn with every location of id in the base segment and
// whether its pack is excluded, until fn returns false. Caller holds the
// lock.
func (ix *Index) eachBase(id *core.ID, fn func(loc Location, excluded bool) bool) {
	if ix.base == nil {
		return
	}
	ix.base.eachID(id, !ix.present.Load(), func(l Location) bool {
		_, ex := ix.baseExcl[l.Pack]
		return fn(l, ex)
	})
}

// baseHas reports whether the base segment holds exactly this entry.
// Caller holds the lock.
func (ix *Index) baseHas(pack *core.ID, b *Blob) bool {
	found := false
	ix.eachBase(&b.ID, func(l Location, _ bool) bool {
		found = l == Location{Pack: *pack, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}
		return !found
	})
	return found
}

// excludeBase adds the packs of set that the segment lists to baseExcl.
// Caller holds the write lock.
func (ix *Index) excludeBase(set map[core.ID]struct{}) {
	if ix.base == nil {
		return
	}
	next := maps.Clone(ix.baseExcl)
	if next == nil {
		next = map[core.ID]struct{}{}
	}
	for p := range set {
		if ix.base.hasPack(&p) {
			next[p] = struct{}{}
		}
	}
	ix.baseExcl = next
}

func (ix *Index) baseSnapshot() (*Segment, map[core.ID]struct{}) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.base, ix.baseExcl
}

// memEntry is an in-memory entry taken out for a merged walk.
type memEntry struct {
	id  core.ID
	loc Location
}

// eachWithBase walks the base segment and the in-memory entries together
// in ID order. The in-memory entries are copied first: they are the small
// delta beside a segment.
func (ix *Index) eachWithBase(base *Segment, excl map[core.ID]struct{}, fn func(core.ID, Location) bool) error {
	var mem []memEntry
	ix.eachMemory(func(id core.ID, loc Location) bool {
		mem = append(mem, memEntry{id, loc})
		return true
	})
	i := 0
	stopped := false
	err := base.walk(kindIDs, func(rec []byte) bool {
		id := recordID(rec)
		for ; i < len(mem) && bytes.Compare(mem[i].id[:], id[:]) < 0; i++ {
			if !fn(mem[i].id, mem[i].loc) {
				stopped = true
				return false
			}
		}
		loc := recordLocation(rec)
		if _, ex := excl[loc.Pack]; ex {
			return true
		}
		if !fn(id, loc) {
			stopped = true
			return false
		}
		return true
	})
	for ; err == nil && !stopped && i < len(mem); i++ {
		if !fn(mem[i].id, mem[i].loc) {
			break
		}
	}
	return err
}

// eachPackWithBase visits the segment's packs, then the in-memory ones.
func (ix *Index) eachPackWithBase(base *Segment, excl map[core.ID]struct{}, fn func(core.ID, []Blob) bool) error {
	stopped := false
	err := base.eachPack(func(p core.ID, blobs []Blob) bool {
		if _, ex := excl[p]; ex {
			return true
		}
		stopped = !fn(p, blobs)
		return !stopped
	})
	if err != nil || stopped {
		return err
	}
	ix.eachPackMemory(fn)
	return nil
}

// mergeBlobs adds blobs to a pack's list, sorted by offset, each entry
// once: a pack listed both in the segment and in memory.
func mergeBlobs(have, more []Blob) []Blob {
	out := append(slices.Clone(have), more...)
	slices.SortFunc(out, func(a, b Blob) int {
		if c := cmp.Compare(a.Offset, b.Offset); c != 0 {
			return c
		}
		return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	return slices.Compact(out)
}

// HasPack reports whether the index lists pack p, in memory or in the base
// segment, excluded or not.
func (ix *Index) HasPack(p core.ID) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if _, ok := ix.packs.find(&p); ok {
		return true
	}
	return ix.base != nil && ix.base.hasPack(&p)
}
