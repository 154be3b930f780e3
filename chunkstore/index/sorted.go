package index

import (
	"bytes"
	"slices"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// EachPackSorted calls fn once per pack with entries outside the excluded
// packs, in ascending pack ID order, with every blob the index holds for
// it sorted by offset, until fn returns false. A pack held both by the
// base segment and in memory comes once, with both lists merged. blobs is
// reused between calls. It streams the segment; besides it, it holds the
// in-memory packs' blobs (the delta) when there is a segment, and 4 bytes
// per entry and 8 per pack of the in-memory index when there is none. It
// returns the first error reading the segment.
func (ix *Index) EachPackSorted(fn func(pack core.ID, blobs []Blob) bool) error {
	base, excl := ix.baseSnapshot()
	if base == nil {
		ix.eachPackMemorySorted(fn)
		return nil
	}
	type memPack struct {
		id    core.ID
		blobs []Blob
	}
	var mem []memPack
	ix.eachPackMemorySorted(func(p core.ID, blobs []Blob) bool {
		mem = append(mem, memPack{p, slices.Clone(blobs)})
		return true
	})
	i, stopped := 0, false
	err := base.eachPack(func(p core.ID, blobs []Blob) bool {
		for ; i < len(mem) && bytes.Compare(mem[i].id[:], p[:]) < 0; i++ {
			if !fn(mem[i].id, mem[i].blobs) {
				stopped = true
				return false
			}
		}
		if i < len(mem) && mem[i].id == p {
			blobs = mergeBlobs(blobs, mem[i].blobs)
			i++
		}
		if _, ex := excl[p]; ex {
			return true
		}
		stopped = !fn(p, blobs)
		return !stopped
	})
	for ; err == nil && !stopped && i < len(mem); i++ {
		if !fn(mem[i].id, mem[i].blobs) {
			break
		}
	}
	return err
}

// eachPackMemorySorted is EachPack over the in-memory entries, in pack ID
// order.
func (ix *Index) eachPackMemorySorted(fn func(pack core.ID, blobs []Blob) bool) {
	v := ix.view()
	ends, order := v.groupByPack()
	byID := make([]uint32, len(ends))
	for p := range byID {
		byID[p] = uint32(p)
	}
	slices.SortFunc(byID, func(a, b uint32) int { return bytes.Compare(v.packs[a][:], v.packs[b][:]) })
	var blobs []Blob
	for _, p := range byID {
		start := uint32(0)
		if p > 0 {
			start = ends[p-1]
		}
		if ends[p] == start {
			continue
		}
		blobs = blobs[:0]
		for _, pos := range order[start:ends[p]] {
			blobs = append(blobs, v.blobAt(pos))
		}
		sortByOffset(blobs)
		if !fn(v.packs[p], blobs) {
			return
		}
	}
}
