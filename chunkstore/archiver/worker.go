package archiver

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// ZeroBlock is the granularity at which block images and sparse files skip
// all-zero data. 64 KiB matches common volume allocation units, so zeroed
// extents of a VM disk or database volume are caught whole, while scanning a
// block costs a few nanoseconds per KiB.
const ZeroBlock = 64 << 10

type worker struct {
	p      *pipeline
	split  *chunker.Splitter
	hasher *chunker.Hasher
	buf    []byte
	st     stageCounters
}

func (p *pipeline) workerLoop(ctx context.Context) error {
	w := &worker{p: p, split: p.a.r.NewSplitter(), hasher: p.a.r.NewHasher()}
	defer p.a.stages.add(&w.st)
	for t := range p.tasks {
		if err := w.do(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

func (w *worker) do(ctx context.Context, t task) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st := segmentStream{ctx: ctx, w: w, t: t, length: t.length, run: -1}
	st.buf = w.segmentBuf(int(min(t.length, window)))
	exts, err := st.chunkAll()
	if err != nil {
		return fmt.Errorf("back up %s: %w", t.file.path, err)
	}
	w.p.a.prog.BytesDone.Add(t.length - st.read) // what a shrunk file did not deliver
	t.file.results[t.seg] = exts
	if t.file.remaining.Add(-1) == 0 {
		return w.finishFile(t.file)
	}
	return nil
}

// window is how much of a segment a worker holds at once. Chunks are cut
// while the segment streams through it (chunker.Cut), so it needs room for
// what is not cut yet (under one largest chunk plus one zero-scan block)
// and for the next read, not for the whole segment: half the memory, for
// the same chunks.
const window = 2 * chunker.MaxSize

// segmentStream chunks one segment through the worker's window. Offsets
// are from the segment's start.
type segmentStream struct {
	ctx    context.Context
	w      *worker
	t      task
	length int64 // segment length; less if the file shrank
	buf    []byte
	base   int64 // offset of buf[0]
	n      int   // bytes of buf holding data
	read   int64 // bytes read: base + n
	scan   int64 // bytes judged zero or not (all of read without zero-skip)
	run    int64 // start of the non-zero run's uncut bytes, or -1
	b      extentBuilder
}

// chunkAll reads, scans and cuts the whole segment and returns its extents.
// With zero-skip, all-zero blocks are left out and each run between them is
// chunked on its own.
func (s *segmentStream) chunkAll() ([]snapshot.Extent, error) {
	for {
		if err := s.fill(); err != nil {
			return nil, err
		}
		end := s.read == s.length
		if err := s.scanBlocks(); err != nil {
			return nil, err
		}
		if s.run >= 0 {
			if err := s.cutRun(end && s.scan == s.length); err != nil {
				return nil, err
			}
		}
		if end && s.scan == s.length {
			return s.b.exts, nil
		}
		s.compact()
	}
}

// fill reads as much of the segment as the window has room for. A short
// read means the file shrank while we read it: what was there is kept.
func (s *segmentStream) fill() error {
	want := min(int64(len(s.buf)-s.n), s.length-s.read)
	if want <= 0 {
		return nil
	}
	if err := s.throttle(want); err != nil {
		return err
	}
	t0 := time.Now()
	var src io.ReaderAt = s.t.file.f
	if s.t.file.src != nil {
		src = s.t.file.src
	}
	got, err := src.ReadAt(s.buf[s.n:s.n+int(want)], s.t.off+s.read)
	s.w.st.read += time.Since(t0)
	if err != nil && err != io.EOF {
		s.w.p.a.warn(fmt.Errorf("read %s at %d: %w", s.t.file.path, s.t.off+s.read, err))
	}
	s.n += got
	s.read += int64(got)
	s.w.p.a.prog.BytesDone.Add(int64(got)) // progress as bytes arrive, not per 32 MiB segment
	if int64(got) < want {
		s.length = s.read
	}
	if s.t.file.src == nil {
		s.w.p.a.addStats(func(st *snapshot.Stats) { st.BytesRead += int64(got) })
	}
	return nil
}

// throttle waits until the read limiter allows n more bytes.
func (s *segmentStream) throttle(n int64) error {
	lim := s.w.p.a.opts.ReadLimit
	if lim == nil {
		return nil
	}
	for n > 0 {
		step := min(n, int64(lim.Burst()))
		if err := lim.WaitN(s.ctx, int(step)); err != nil {
			return fmt.Errorf("wait for the read limit: %w", err)
		}
		n -= step
	}
	return nil
}

// scanBlocks judges the complete ZeroBlocks read so far, opening a run at
// the first non-zero block and closing (and finishing the cuts of) a run
// at a zero one. Without zero-skip the segment is one run.
func (s *segmentStream) scanBlocks() error {
	if !s.t.file.zeroSkip {
		if s.run < 0 && s.scan == 0 && s.read > 0 {
			s.startRun(0)
		}
		s.scan = s.read
		return nil
	}
	for s.scan < s.read {
		end := min(s.scan+ZeroBlock, s.length)
		if end > s.read {
			return nil // a partial block: judged once the rest is read
		}
		if !isZero(s.buf[s.scan-s.base : end-s.base]) {
			if s.run < 0 {
				s.startRun(s.scan)
			}
		} else if s.run >= 0 {
			if err := s.cutRun(true); err != nil {
				return err
			}
		}
		s.scan = end
	}
	return nil
}

func (s *segmentStream) startRun(off int64) {
	s.run = off
	s.b.start(s.t.off + off)
}

// cutRun saves every chunk of the run whose end is decided by the bytes
// scanned so far; final means the run ends at s.scan.
func (s *segmentStream) cutRun(final bool) error {
	data := s.buf[s.run-s.base : s.scan-s.base]
	for len(data) > 0 {
		t0 := time.Now()
		n, ok := s.w.split.Cut(data, final)
		s.w.st.chunk += time.Since(t0)
		if !ok {
			return nil
		}
		if err := s.w.save(&s.b, data[:n]); err != nil {
			return err
		}
		data = data[n:]
		s.run += int64(n)
	}
	if final {
		s.run = -1
	}
	return nil
}

// compact moves the bytes still needed (the uncut run, or the unjudged
// partial block) to the front of the window.
func (s *segmentStream) compact() {
	keep := s.scan
	if s.run >= 0 {
		keep = s.run
	}
	drop := int(keep - s.base)
	copy(s.buf, s.buf[drop:s.n])
	s.base += int64(drop)
	s.n -= drop
}

// save hashes and stores one chunk and adds it to the extents.
func (w *worker) save(b *extentBuilder, c []byte) error {
	t1 := time.Now()
	id := w.hasher.Sum(c)
	t2 := time.Now()
	if _, err := w.p.a.saver.Save(core.DataBlob, id, c); err != nil {
		return err
	}
	w.st.hash += t2.Sub(t1)
	w.st.save += time.Since(t2)
	b.add(id, len(c))
	return nil
}

// segmentBuf returns a buffer of n bytes, reusing the worker's. It grows to
// the largest need seen rather than starting at the window size, so a
// backup of small files does not carry 16 MiB per worker.
func (w *worker) segmentBuf(n int) []byte {
	if cap(w.buf) < n {
		w.buf = make([]byte, max(n, min(2*cap(w.buf), window)))
	}
	return w.buf[:n]
}

func (w *worker) finishFile(j *fileJob) error {
	defer j.dir.release()
	w.p.closed(j)
	exts := j.keep
	for _, r := range j.results {
		exts = append(exts, r...)
	}
	if len(j.keep) > 0 {
		slices.SortFunc(exts, func(a, b snapshot.Extent) int { return cmp.Compare(a.Offset, b.Offset) })
	}
	j.results, j.keep = nil, nil
	w.p.a.prog.FilesDone.Add(1)
	return snapshot.SetContent(w.p.a.saver, w.hasher.Sum, j.node, exts)
}

// extentBuilder collects chunks into extents of at most MaxExtentChunks.
type extentBuilder struct {
	exts []snapshot.Extent
	next int64
}

func (b *extentBuilder) start(off int64) {
	b.exts = append(b.exts, snapshot.Extent{Offset: off})
	b.next = off
}

func (b *extentBuilder) add(id core.ID, n int) {
	last := &b.exts[len(b.exts)-1]
	if len(last.Chunks) == snapshot.MaxExtentChunks {
		b.exts = append(b.exts, snapshot.Extent{Offset: b.next})
		last = &b.exts[len(b.exts)-1]
	}
	last.Chunks = append(last.Chunks, id)
	b.next += int64(n)
}

var zeros [ZeroBlock]byte

func isZero(b []byte) bool {
	return string(b) == string(zeros[:len(b)])
}
