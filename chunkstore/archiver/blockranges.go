package archiver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/fsmeta"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// BlockRanges narrows a block backup to some byte ranges of the image, as
// a storage system's block metadata reports them.
//
// Without SinceParent, Ranges are the only ranges that hold data (the
// allocated ranges of a first backup): everything else is a hole and is
// neither read nor stored.
//
// With SinceParent, Ranges are the ranges changed since Options.Parent was
// taken, and every other byte equals the parent's. Each changed range is
// widened to the parent chunks it touches; those regions are chunked anew,
// their unchanged bytes taken from the parent's chunks in the repository
// rather than from the image, and every parent chunk outside them is kept
// as it is. So only changed bytes are read from the image, and content-
// defined chunking, deduplication and compression still apply to what is
// stored.
type BlockRanges struct {
	Ranges      []fsmeta.Extent
	SinceParent bool
}

// ErrParentUnusable says a changed-block backup cannot build on its parent
// (another size, another kind, or chunks no longer in the repository); the
// caller falls back to a full read.
var ErrParentUnusable = errors.New("the parent snapshot cannot be the base of a changed-block backup")

// parentChunk is one chunk of the parent image at its offset.
type parentChunk struct {
	off, length int64
	id          core.ID
}

func (c parentChunk) end() int64 { return c.off + c.length }

// blockPlan is what a ranged block backup reads and what it keeps.
type blockPlan struct {
	segs []fsmeta.Extent   // what the workers chunk
	keep []snapshot.Extent // parent chunks reused as they are
	src  *patchReader      // nil when the image is read directly
}

// planBlockRanges turns opts.BlockRanges into segments for an image of
// size bytes whose parent image node is prev.
func (p *pipeline) planBlockRanges(ctx context.Context, f *os.File, size int64, prev *snapshot.Node) (*blockPlan, error) {
	br := p.a.opts.BlockRanges
	ranges := clipRanges(br.Ranges, size)
	if !br.SinceParent {
		return &blockPlan{segs: gridSegments(ranges)}, nil
	}
	chunks, err := p.parentChunks(ctx, prev, size)
	if err != nil {
		return nil, err
	}
	regions := widen(ranges, chunks)
	src := &patchReader{ctx: ctx, a: p.a, img: f, changed: ranges, chunks: chunks}
	return &blockPlan{segs: gridSegments(regions), keep: keptExtents(chunks, regions), src: src}, nil
}

// parentChunks lists the parent image's chunks with their offsets.
func (p *pipeline) parentChunks(ctx context.Context, prev *snapshot.Node, size int64) ([]parentChunk, error) {
	if prev == nil || prev.Type != snapshot.TypeFile {
		return nil, fmt.Errorf("%w: it holds no block image of this name", ErrParentUnusable)
	}
	if prev.Size != size {
		return nil, fmt.Errorf("%w: its image is %d bytes, this one %d", ErrParentUnusable, prev.Size, size)
	}
	exts, err := snapshot.Extents(ctx, p.a.r, prev)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParentUnusable, err)
	}
	var out []parentChunk
	idx := p.a.r.Index()
	for _, e := range exts {
		off := e.Offset
		for _, id := range e.Chunks {
			loc, ok := idx.Lookup(id)
			if !ok || !p.a.r.HasUsable(id) {
				return nil, fmt.Errorf("%w: its chunk %s at offset %d is not in the repository", ErrParentUnusable, id.Short(), off)
			}
			out = append(out, parentChunk{off: off, length: int64(loc.RawLength), id: id})
			off += int64(loc.RawLength)
		}
	}
	return out, nil
}

// clipRanges sorts, merges and clips ranges to [0, size).
func clipRanges(in []fsmeta.Extent, size int64) []fsmeta.Extent {
	rs := slices.Clone(in)
	slices.SortFunc(rs, func(a, b fsmeta.Extent) int { return cmp.Compare(a.Offset, b.Offset) })
	var out []fsmeta.Extent
	for _, r := range rs {
		start, end := max(r.Offset, 0), min(r.Offset+r.Length, size)
		if end <= start {
			continue
		}
		if n := len(out); n > 0 && start <= out[n-1].Offset+out[n-1].Length {
			out[n-1].Length = max(out[n-1].Length, end-out[n-1].Offset)
			continue
		}
		out = append(out, fsmeta.Extent{Offset: start, Length: end - start})
	}
	return out
}

// widen grows each changed range to the whole parent chunks it touches
// (bytes in a parent hole stay as they are) and merges what then overlaps
// or touches. chunks are sorted and do not overlap.
func widen(ranges []fsmeta.Extent, chunks []parentChunk) []fsmeta.Extent {
	out := make([]fsmeta.Extent, 0, len(ranges))
	for _, r := range ranges {
		start, end := r.Offset, r.Offset+r.Length
		if c, ok := chunkAt(chunks, start); ok {
			start = c.off
		}
		if c, ok := chunkAt(chunks, end-1); ok {
			end = c.end()
		}
		out = append(out, fsmeta.Extent{Offset: start, Length: end - start})
	}
	return clipRanges(out, 1<<62)
}

// chunkAt finds the parent chunk holding byte off.
func chunkAt(chunks []parentChunk, off int64) (parentChunk, bool) {
	i, _ := slices.BinarySearchFunc(chunks, off, func(c parentChunk, off int64) int {
		switch {
		case c.end() <= off:
			return -1
		case c.off > off:
			return 1
		}
		return 0
	})
	if i < len(chunks) && chunks[i].off <= off && off < chunks[i].end() {
		return chunks[i], true
	}
	return parentChunk{}, false
}

// keptExtents are the parent's chunks outside every region, as extents of
// back-to-back chunks.
func keptExtents(chunks []parentChunk, regions []fsmeta.Extent) []snapshot.Extent {
	var out []snapshot.Extent
	next := int64(-1)
	ri := 0
	for _, c := range chunks {
		for ri < len(regions) && regions[ri].Offset+regions[ri].Length <= c.off {
			ri++
		}
		if ri < len(regions) && regions[ri].Offset < c.end() {
			next = -1 // inside a region: rewritten
			continue
		}
		if n := len(out); n > 0 && next == c.off && len(out[n-1].Chunks) < snapshot.MaxExtentChunks {
			out[n-1].Chunks = append(out[n-1].Chunks, c.id)
		} else {
			out = append(out, snapshot.Extent{Offset: c.off, Chunks: []core.ID{c.id}})
		}
		next = c.end()
	}
	return out
}

// gridSegments cuts ranges into segments at multiples of SegmentSize, the
// same cuts a full read of the image makes, so chunks stay comparable.
func gridSegments(ranges []fsmeta.Extent) []fsmeta.Extent {
	var segs []fsmeta.Extent
	for _, r := range ranges {
		end := r.Offset + r.Length
		for off := r.Offset; off < end; {
			next := min((off/chunker.SegmentSize+1)*chunker.SegmentSize, end)
			segs = append(segs, fsmeta.Extent{Offset: off, Length: next - off})
			off = next
		}
	}
	return segs
}

// patchReader serves the bytes of widened regions: changed ranges from the
// image, everything else from the parent's chunks (or zeros in the
// parent's holes). Only image reads count as bytes read.
type patchReader struct {
	ctx     context.Context
	a       *archiver
	img     *os.File
	changed []fsmeta.Extent
	chunks  []parentChunk

	mu    sync.Mutex
	cache []cachedChunk // the few chunks loaded last
}

type cachedChunk struct {
	id   core.ID
	data []byte
}

// ReadAt fills p from off, piece by piece.
func (r *patchReader) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		at := off + int64(done)
		n, err := r.readPiece(p[done:], at)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// readPiece serves the longest prefix of p at off that comes from one
// place: the image, one parent chunk, or a parent hole.
func (r *patchReader) readPiece(p []byte, off int64) (int, error) {
	if c, ok := rangeAt(r.changed, off); ok {
		n := int(min(int64(len(p)), c.Offset+c.Length-off))
		got, err := r.img.ReadAt(p[:n], off)
		r.a.addStats(func(s *snapshot.Stats) { s.BytesRead += int64(got) })
		if err != nil {
			return got, fmt.Errorf("read changed range at %d: %w", off, err)
		}
		return got, nil
	}
	limit := int64(len(p))
	if i, ok := nextRange(r.changed, off); ok {
		limit = min(limit, r.changed[i].Offset-off)
	}
	if c, ok := chunkAt(r.chunks, off); ok {
		data, err := r.load(c.id)
		if err != nil {
			return 0, err
		}
		return copy(p[:min(limit, c.end()-off)], data[off-c.off:]), nil
	}
	if i, ok := nextChunk(r.chunks, off); ok {
		limit = min(limit, r.chunks[i].off-off)
	}
	clear(p[:limit])
	return int(limit), nil
}

// load returns a parent chunk's bytes, from the small cache when the
// window asks for the same chunk again.
func (r *patchReader) load(id core.ID) ([]byte, error) {
	r.mu.Lock()
	for _, c := range r.cache {
		if c.id == id {
			r.mu.Unlock()
			return c.data, nil
		}
	}
	r.mu.Unlock()
	data, err := r.a.r.LoadBlob(r.ctx, core.DataBlob, id, nil)
	if err != nil {
		return nil, fmt.Errorf("load parent chunk %s: %w", id.Short(), err)
	}
	r.mu.Lock()
	r.cache = append(r.cache, cachedChunk{id: id, data: data})
	if len(r.cache) > patchCache {
		r.cache = r.cache[1:]
	}
	r.mu.Unlock()
	return data, nil
}

// patchCache is how many parent chunks stay loaded: one per worker window
// edge is enough, since a window reads a region front to back.
const patchCache = 8

// rangeAt finds the range holding off.
func rangeAt(rs []fsmeta.Extent, off int64) (fsmeta.Extent, bool) {
	i, ok := nextRange(rs, off)
	if ok && rs[i].Offset <= off {
		return rs[i], true
	}
	return fsmeta.Extent{}, false
}

// nextRange finds the first range that ends after off.
func nextRange(rs []fsmeta.Extent, off int64) (int, bool) {
	i, _ := slices.BinarySearchFunc(rs, off, func(r fsmeta.Extent, off int64) int {
		if r.Offset+r.Length <= off {
			return -1
		}
		return 1
	})
	return i, i < len(rs)
}

// nextChunk finds the first parent chunk that ends after off.
func nextChunk(cs []parentChunk, off int64) (int, bool) {
	i, _ := slices.BinarySearchFunc(cs, off, func(c parentChunk, off int64) int {
		if c.end() <= off {
			return -1
		}
		return 1
	})
	return i, i < len(cs)
}
