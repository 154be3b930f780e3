package repairer

import (
	"context"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// file repairs one file node: unchanged if all its data is there; dropped
// if some is lost, or with Salvage kept with the lost ranges as holes.
func (rp *repairer) file(ctx context.Context, n *snapshot.Node) (*snapshot.Node, []Loss, bool, error) {
	exts, err := snapshot.Extents(ctx, rp.r, n)
	if err != nil {
		if !isDamage(err) {
			return nil, nil, false, err
		}
		// Without its content list nothing of the file can be found.
		blob, why := rp.lostPart(n.ContentLists)
		return nil, []Loss{{Blob: blob, Why: "content list: " + why}}, true, nil
	}
	first, ok := rp.firstLost(exts)
	if !ok {
		return n, nil, false, nil
	}
	loss := Loss{Blob: first, Why: rp.built.why(first)}
	if !rp.opts.Salvage {
		return nil, []Loss{loss}, true, nil
	}
	kept := salvageExtents(exts, rp.r.Index().Has, rp.length)
	c := *n
	var saver snapshot.BlobSaver = discard{}
	if rp.opts.Apply {
		saver = rp.saver
	}
	if err := snapshot.SetContent(saver, rp.r.NewHasher().Sum, &c, kept); err != nil {
		return nil, nil, false, err
	}
	loss.Salvaged = true
	return &c, []Loss{loss}, true, nil
}

func (rp *repairer) firstLost(exts []snapshot.Extent) (core.ID, bool) {
	ix := rp.r.Index()
	for _, e := range exts {
		for _, id := range e.Chunks {
			if !ix.Has(id) {
				return id, true
			}
		}
	}
	return core.ID{}, false
}

// length is a chunk's plaintext length from the new index, or from the
// old one for a chunk that is gone.
func (rp *repairer) length(id core.ID) (int64, bool) {
	if loc, ok := rp.r.Index().Lookup(id); ok {
		return int64(loc.RawLength), true
	}
	if loc, ok := rp.built.old.LookupAny(id); ok {
		return int64(loc.RawLength), true
	}
	return 0, false
}

// salvageExtents keeps the chunks that are still stored. A lost chunk ends
// its run: the next run starts after it, as a new extent at its own offset,
// so the lost range reads as a hole. When a lost chunk's length is unknown
// the rest of its extent cannot be placed and is dropped too.
func salvageExtents(exts []snapshot.Extent, has func(core.ID) bool, length func(core.ID) (int64, bool)) []snapshot.Extent {
	var out []snapshot.Extent
	for _, e := range exts {
		off := e.Offset
		run := -1 // index in out of the extent being extended
		for _, id := range e.Chunks {
			n, known := length(id)
			if !has(id) {
				run = -1
				if !known {
					break
				}
				off += n
				continue
			}
			if run < 0 {
				out = append(out, snapshot.Extent{Offset: off})
				run = len(out) - 1
			}
			out[run].Chunks = append(out[run].Chunks, id)
			off += n
		}
	}
	return out
}

// discard is the BlobSaver of a dry run: it stores nothing.
type discard struct{}

func (discard) Save(core.BlobType, core.ID, []byte) (bool, error) { return true, nil }
