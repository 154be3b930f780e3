package archiver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// Workers cut each segment while it streams through a window half its size.
// The chunks must be exactly those of cutting each whole segment at once
// (FORMAT.md §4): zero blocks dropped, each run between them chunked on its
// own, whatever straddles the window's edges.
func TestStreamedChunksMatchWholeSegments(t *testing.T) {
	data := streamTestImage()
	path := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, block := range []bool{true, false} {
		t.Run(fmt.Sprintf("zero-skip=%v", block), func(t *testing.T) {
			r := repotest.Init(t, mem.New())
			res := backup(t, r, []string{path}, archiver.Options{Block: block})
			root, err := snapshot.LoadTree(context.Background(), r, res.Snapshot.Tree)
			if err != nil || len(root) != 1 {
				t.Fatalf("root tree: %v %v", root, err)
			}
			got, err := snapshot.Extents(context.Background(), r, root[0])
			if err != nil {
				t.Fatal(err)
			}
			want := wholeSegmentExtents(r, data, block)
			if g, w := flatten(got), flatten(want); g != w {
				t.Fatalf("streamed chunks differ from whole-segment chunks:\n got %s\nwant %s", g, w)
			}
		})
	}
}

// streamTestImage is 70 MiB (two full segments and a short one): random
// data with zero blocks on and off the 64 KiB grid, a 10 MiB zero run
// across the first segment boundary, text, and a zero block at the very end.
func streamTestImage() []byte {
	data := testtree.Random(5, 70<<20)
	copy(data[20<<20:], testtree.Text(6, 6<<20))
	zero := func(off, n int) { clear(data[off : off+n]) }
	zero(1<<20, 64<<10)              // one aligned block
	zero(3<<20+100, 200<<10)         // unaligned: only whole blocks inside are zero
	zero(27<<20, 10<<20)             // across the segment boundary at 32 MiB
	zero(40<<20+7, 9<<20)            // long, unaligned
	zero(len(data)-(64<<10), 64<<10) // the last block
	return data
}

// wholeSegmentExtents chunks data the straightforward way: each segment in
// memory at once, its non-zero runs found first and split one by one.
func wholeSegmentExtents(r *repo.Repository, data []byte, zeroSkip bool) []snapshot.Extent {
	split, hash := r.NewSplitter(), r.NewHasher()
	var exts []snapshot.Extent
	for seg := 0; seg < len(data); seg += chunker.SegmentSize {
		buf := data[seg:min(seg+chunker.SegmentSize, len(data))]
		runs := [][2]int{{0, len(buf)}}
		if zeroSkip {
			runs = nonZeroRuns(buf)
		}
		for _, run := range runs {
			ext := snapshot.Extent{Offset: int64(seg + run[0])}
			_ = split.Split(buf[run[0]:run[1]], func(c []byte) error {
				ext.Chunks = append(ext.Chunks, hash.Sum(c))
				return nil
			})
			exts = append(exts, ext)
		}
	}
	return exts
}

func nonZeroRuns(buf []byte) [][2]int {
	var runs [][2]int
	start := -1
	for off := 0; off < len(buf); off += archiver.ZeroBlock {
		end := min(off+archiver.ZeroBlock, len(buf))
		zero := true
		for _, b := range buf[off:end] {
			if b != 0 {
				zero = false
				break
			}
		}
		switch {
		case zero && start >= 0:
			runs, start = append(runs, [2]int{start, off}), -1
		case !zero && start < 0:
			start = off
		}
	}
	if start >= 0 {
		runs = append(runs, [2]int{start, len(buf)})
	}
	return runs
}

// flatten lists chunks with their file offsets, so that extents split
// differently (at MaxExtentChunks) but covering the same chunks compare equal.
func flatten(exts []snapshot.Extent) string {
	s := ""
	for _, e := range exts {
		s += fmt.Sprintf("[%d:", e.Offset)
		for _, id := range e.Chunks {
			s += " " + id.Short()
		}
		s += "]"
	}
	return s
}
