package archiver

import (
	"context"
	"fmt"
	"io"
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
	t0 := time.Now()
	buf := w.segmentBuf(int(t.length))
	n, err := t.file.f.ReadAt(buf, t.off)
	w.st.read += time.Since(t0)
	if err != nil && err != io.EOF {
		w.p.a.warn(fmt.Errorf("read %s at %d: %w", t.file.path, t.off, err))
	}
	if int64(n) < t.length {
		// The file shrank while we read it; keep what was there.
		buf = buf[:n]
	}
	w.p.a.addStats(func(s *snapshot.Stats) { s.BytesRead += int64(n) })
	exts, err := w.chunkSegment(buf, t.off, t.file.zeroSkip)
	if err != nil {
		return fmt.Errorf("back up %s: %w", t.file.path, err)
	}
	w.p.a.prog.BytesDone.Add(t.length)
	t.file.results[t.seg] = exts
	if t.file.remaining.Add(-1) == 0 {
		return w.finishFile(t.file)
	}
	return nil
}

// segmentBuf returns a buffer of n bytes, reusing the worker's. It grows to
// the largest segment seen rather than starting at SegmentSize, so a backup
// of small files does not carry 32 MiB per worker.
func (w *worker) segmentBuf(n int) []byte {
	if cap(w.buf) < n {
		w.buf = make([]byte, max(n, min(2*cap(w.buf), chunker.SegmentSize)))
	}
	return w.buf[:n]
}

// chunkSegment chunks buf (file bytes from base) and saves every chunk,
// returning the extents. With zeroSkip, all-zero blocks are left out.
func (w *worker) chunkSegment(buf []byte, base int64, zeroSkip bool) ([]snapshot.Extent, error) {
	var b extentBuilder
	runs := [][2]int{{0, len(buf)}}
	if zeroSkip {
		runs = nonZeroRuns(buf)
	}
	for _, run := range runs {
		b.start(base + int64(run[0]))
		t0 := time.Now()
		var inner time.Duration
		err := w.split.Split(buf[run[0]:run[1]], func(c []byte) error {
			t1 := time.Now()
			id := w.hasher.Sum(c)
			t2 := time.Now()
			if _, err := w.p.a.saver.Save(core.DataBlob, id, c); err != nil {
				return err
			}
			t3 := time.Now()
			w.st.hash += t2.Sub(t1)
			w.st.save += t3.Sub(t2)
			inner += t3.Sub(t1)
			b.add(id, len(c))
			return nil
		})
		w.st.chunk += time.Since(t0) - inner
		if err != nil {
			return nil, err
		}
	}
	return b.exts, nil
}

func (w *worker) finishFile(j *fileJob) error {
	defer j.dir.release()
	j.f.Close()
	var exts []snapshot.Extent
	for _, r := range j.results {
		exts = append(exts, r...)
	}
	j.results = nil
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

// nonZeroRuns returns the [start,end) ranges of buf that are not made of
// whole all-zero ZeroBlocks.
func nonZeroRuns(buf []byte) [][2]int {
	var runs [][2]int
	start := -1
	for off := 0; off < len(buf); off += ZeroBlock {
		end := min(off+ZeroBlock, len(buf))
		if isZero(buf[off:end]) {
			if start >= 0 {
				runs = append(runs, [2]int{start, off})
				start = -1
			}
			continue
		}
		if start < 0 {
			start = off
		}
	}
	if start >= 0 {
		runs = append(runs, [2]int{start, len(buf)})
	}
	return runs
}

var zeros [ZeroBlock]byte

func isZero(b []byte) bool {
	return string(b) == string(zeros[:len(b)])
}
