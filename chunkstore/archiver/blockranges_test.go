package archiver_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/fsmeta"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
)

// writeImage writes size bytes of seeded random data to a new file, with
// holes (zeros) where holes says.
func writeImage(t *testing.T, path string, size int64, seed uint64, holes []fsmeta.Extent) []byte {
	t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, h := range holes {
		clear(data[h.Offset : h.Offset+h.Length])
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

// rewrite overwrites ranges of the image with new random bytes and
// returns the new contents.
func rewrite(t *testing.T, path string, data []byte, seed uint64, ranges []fsmeta.Extent) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	out := bytes.Clone(data)
	for _, r := range ranges {
		for i := r.Offset; i < r.Offset+r.Length; i++ {
			out[i] = byte(rng.Uint32())
		}
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func restoredImage(t *testing.T, dir string) []byte {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestChangedBlocksReadOnlyChangesAndRestoreExactly(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	const size = 48 << 20
	hole := fsmeta.Extent{Offset: 20 << 20, Length: 4 << 20}
	base := writeImage(t, img, size, 1, []fsmeta.Extent{hole})
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	full := backup(t, r, []string{img}, archiver.Options{Block: true})

	changed := []fsmeta.Extent{
		{Offset: 3 << 20, Length: 64 << 10},       // inside data
		{Offset: 21 << 20, Length: 128 << 10},     // inside the parent's hole
		{Offset: 32<<20 - 4096, Length: 8192},     // across the segment grid
		{Offset: size - 64<<10, Length: 64 << 10}, // the last block
		{Offset: 40 << 20, Length: 4096},          // a small write
		{Offset: 40<<20 + 4096, Length: 4096},     // touching the one before
	}
	next := rewrite(t, img, base, 2, changed)
	inc := backup(t, r, []string{img}, archiver.Options{Block: true, Parent: full.Snapshot, ParentID: &full.ID,
		BlockRanges: &archiver.BlockRanges{Ranges: changed, SinceParent: true}})

	var changedBytes int64
	for _, c := range changed {
		changedBytes += c.Length
	}
	if got := inc.Snapshot.Stats.BytesRead; got != changedBytes {
		t.Errorf("changed-block backup read %d bytes of the image, want exactly the %d changed", got, changedBytes)
	}
	dst := t.TempDir()
	restore(t, repotest.Open(t, r.Store()), inc.Snapshot, restorer.Options{Target: dst})
	if !bytes.Equal(restoredImage(t, dst), next) {
		t.Fatal("the changed-block snapshot does not restore to the rewritten image")
	}
	// The parent still restores to the original.
	dst2 := t.TempDir()
	restore(t, r, full.Snapshot, restorer.Options{Target: dst2})
	if !bytes.Equal(restoredImage(t, dst2), base) {
		t.Fatal("the parent no longer restores to the original image")
	}
	mustCheck(t, r, true)
}

func TestChangedBlocksWithoutChangesKeepsTheParent(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	base := writeImage(t, img, 10<<20, 3, nil)
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	full := backup(t, r, []string{img}, archiver.Options{Block: true})
	inc := backup(t, r, []string{img}, archiver.Options{Block: true, Parent: full.Snapshot,
		BlockRanges: &archiver.BlockRanges{SinceParent: true}})
	if inc.Snapshot.Stats.BytesRead != 0 || inc.Snapshot.Stats.BytesAdded != 0 {
		t.Errorf("nothing changed, but %d bytes were read and %d added", inc.Snapshot.Stats.BytesRead, inc.Snapshot.Stats.BytesAdded)
	}
	dst := t.TempDir()
	restore(t, r, inc.Snapshot, restorer.Options{Target: dst})
	if !bytes.Equal(restoredImage(t, dst), base) {
		t.Fatal("restore differs from the image")
	}
}

func TestAllocatedRangesOnlyAreRead(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	const size = 16 << 20
	// Everything outside the allocated ranges is zero, as a volume's
	// unallocated blocks read.
	data := writeImage(t, img, size, 4, []fsmeta.Extent{{Offset: 0, Length: 2 << 20}, {Offset: 5 << 20, Length: 11 << 20}})
	allocated := []fsmeta.Extent{{Offset: 2 << 20, Length: 3 << 20}}
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	res := backup(t, r, []string{img}, archiver.Options{Block: true, BlockRanges: &archiver.BlockRanges{Ranges: allocated}})
	if got := res.Snapshot.Stats.BytesRead; got != 3<<20 {
		t.Errorf("read %d bytes, want only the 3 MiB allocated", got)
	}
	dst := t.TempDir()
	restore(t, r, res.Snapshot, restorer.Options{Target: dst})
	if !bytes.Equal(restoredImage(t, dst), data) {
		t.Fatal("restore differs from the image")
	}
}

func TestChangedBlocksRefuseAParentOfAnotherSize(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	writeImage(t, img, 4<<20, 5, nil)
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	full := backup(t, r, []string{img}, archiver.Options{Block: true})
	writeImage(t, img, 6<<20, 5, nil)
	_, err := archiver.Backup(t.Context(), r, []string{img}, archiver.Options{Block: true, Parent: full.Snapshot,
		BlockRanges: &archiver.BlockRanges{SinceParent: true}})
	if !errors.Is(err, archiver.ErrParentUnusable) {
		t.Fatalf("backup over a parent of another size: %v, want ErrParentUnusable", err)
	}
}

func TestReadLimitSlowsTheRead(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	writeImage(t, img, 3<<20, 6, nil)
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	start := time.Now()
	// 1 MiB/s with a 1 MiB burst: the first MiB is free, the other two
	// take at least two seconds.
	backup(t, r, []string{img}, archiver.Options{Block: true, ReadLimit: rate.NewLimiter(1<<20, 1<<20)})
	if took := time.Since(start); took < 1800*time.Millisecond {
		t.Fatalf("3 MiB at 1 MiB/s took %s; the limit was not applied", took)
	}
}

// A canceled backup closes its sources: an open descriptor would keep a
// mounted snapshot busy and its unmount would fail.
func TestCanceledBackupClosesItsSources(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	writeImage(t, img, 8<<20, 7, nil)
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := archiver.Backup(ctx, r, []string{img}, archiver.Options{Block: true, ReadLimit: rate.NewLimiter(1<<20, 1<<20)})
	if err == nil {
		t.Fatal("the backup outran its deadline")
	}
	fds, _ := filepath.Glob("/proc/self/fd/*")
	for _, fd := range fds {
		if target, _ := os.Readlink(fd); target == img {
			t.Fatalf("descriptor %s still reads %s after the backup failed", fd, img)
		}
	}
}
