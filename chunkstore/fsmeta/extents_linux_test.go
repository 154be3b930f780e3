package fsmeta

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

const mib = 1 << 20

var errAny = errors.New("any error")

// sparseLayout has holes at the start, in the middle and at the end. Every
// boundary is MiB-aligned, coarser than any block size, so a filesystem that
// reports holes must report exactly these extents.
var sparseLayout = struct {
	size int64
	data []Extent
}{
	size: 5 * mib,
	data: []Extent{{Offset: 1 * mib, Length: 64 << 10}, {Offset: 3 * mib, Length: 128 << 10}},
}

// holeSupport is what a raw lseek(SEEK_HOLE, 0) says about a file that is
// known to begin with a hole. It is the proof behind each expectation: a
// test expects the whole-file fallback only when the filesystem has been
// shown not to report holes.
type holeSupport int

const (
	holesReported    holeSupport = iota // SEEK_HOLE found the hole at 0
	holesUnsupported                    // EINVAL: no SEEK_HOLE at all
	holesHidden                         // SEEK_HOLE answers EOF: everything is data
)

func probeHoles(t *testing.T, f *os.File, size int64) holeSupport {
	t.Helper()
	off, err := unix.Seek(int(f.Fd()), 0, unix.SEEK_HOLE)
	switch {
	case errors.Is(err, unix.EINVAL):
		t.Logf("filesystem has no SEEK_HOLE: %v", err)
		return holesUnsupported
	case err != nil:
		t.Fatalf("probe SEEK_HOLE: %v", err)
	case off == 0:
		t.Logf("filesystem reports holes (SEEK_HOLE from 0 = 0): expecting exact extents")
		return holesReported
	case off == size:
		t.Logf("filesystem reports no holes: SEEK_HOLE from 0 gave EOF %d", off)
		return holesHidden
	}
	t.Fatalf("probe SEEK_HOLE from 0 = %d in a file whose first MiB is a hole", off)
	return 0
}

// expectedExtents is exact on a filesystem that reports holes and the
// whole-file fallback on one proven not to.
func expectedExtents(support holeSupport, exact []Extent, size int64) []Extent {
	if support == holesReported || size == 0 {
		return exact
	}
	return []Extent{{Offset: 0, Length: size}}
}

func writeSparse(t *testing.T, path string) {
	t.Helper()
	f, err := CreateSparse(path, sparseLayout.size, 0o600)
	mustDo(t, err)
	defer f.Close()
	for i, e := range sparseLayout.data {
		_, err := f.WriteAt(bytes.Repeat([]byte{byte('a' + i)}, int(e.Length)), e.Offset)
		mustDo(t, err)
	}
	mustDo(t, f.Close())
}

func TestDataExtentsSparse(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys testFS) {
		path := fsys.path("sparse")
		writeSparse(t, path)
		f, err := os.Open(path)
		mustDo(t, err)
		defer f.Close()

		got, err := DataExtents(f, sparseLayout.size)
		mustDo(t, err)
		want := expectedExtents(probeHoles(t, f, sparseLayout.size), sparseLayout.data, sparseLayout.size)
		if !slices.Equal(got, want) {
			t.Errorf("%s: extents %v, want %v", fsys.fstype, got, want)
		}
	})
}

// The restore half: a file made by CreateSparse and written only at its
// extents reads back with the same content, the same extents, and fewer
// allocated blocks than its size.
func TestCreateSparseKeepsHoles(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys testFS) {
		path := fsys.path("restored")
		writeSparse(t, path)
		content, err := os.ReadFile(path)
		mustDo(t, err)
		want := make([]byte, sparseLayout.size)
		for i, e := range sparseLayout.data {
			copy(want[e.Offset:e.Offset+e.Length], bytes.Repeat([]byte{byte('a' + i)}, int(e.Length)))
		}
		if !bytes.Equal(content, want) {
			t.Fatal("restored content differs")
		}
		m := mustLstat(t, path)
		if m.Size != sparseLayout.size || !m.MaybeSparse() {
			t.Errorf("size %d, %d blocks: not sparse", m.Size, m.Blocks)
		}
		if m.Blocks*512 > 2*mib {
			t.Errorf("%d bytes allocated for %d bytes of data: holes were filled", m.Blocks*512, 192<<10)
		}
	})
}

func TestDataExtentsAllHole(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys testFS) {
		f, err := CreateSparse(fsys.path("holes"), 2*mib, 0o600)
		mustDo(t, err)
		defer f.Close()
		got, err := DataExtents(f, 2*mib)
		mustDo(t, err)
		if want := expectedExtents(probeHoles(t, f, 2*mib), nil, 2*mib); !slices.Equal(got, want) {
			t.Errorf("extents %v, want %v", got, want)
		}
	})
}

func TestDataExtentsDenseAndEdges(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/dense", bytes.Repeat([]byte("x"), 2*mib))
	writeFile(t, dir+"/empty", nil)
	tests := []struct {
		name string
		file string
		size int64
		want []Extent
	}{
		{"dense", "dense", 2 * mib, []Extent{{0, 2 * mib}}},
		{"grew after lstat: cut at size", "dense", 1 * mib, []Extent{{0, 1 * mib}}},
		{"shrank after lstat: ends at EOF", "dense", 3 * mib, []Extent{{0, 2 * mib}}},
		{"empty", "empty", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(dir + "/" + tc.file)
			mustDo(t, err)
			defer f.Close()
			got, err := DataExtents(f, tc.size)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// fakeSeek plays a filesystem: data holds the data extents of a file of
// length size; err, when set, is what every lseek answers.
func fakeSeek(size int64, data []Extent, err error) seekFunc {
	return func(off int64, whence int) (int64, error) {
		if err != nil {
			return 0, err
		}
		if off >= size {
			return 0, unix.ENXIO
		}
		for _, e := range data {
			end := e.Offset + e.Length
			switch {
			case whence == unix.SEEK_DATA && off < end:
				return max(off, e.Offset), nil
			case whence == unix.SEEK_HOLE && off < e.Offset:
				return off, nil
			case whence == unix.SEEK_HOLE && off < end:
				return end, nil
			}
		}
		if whence == unix.SEEK_HOLE {
			return size, nil
		}
		return 0, unix.ENXIO
	}
}

func TestDataExtentsFakeFilesystems(t *testing.T) {
	stuck := func(off int64, whence int) (int64, error) { return 0, nil }
	tests := []struct {
		name    string
		seek    seekFunc
		size    int64
		want    []Extent
		wantErr error // errAny: some error, whichever
	}{
		{"no SEEK_DATA: whole file", fakeSeek(0, nil, unix.EINVAL), 100, []Extent{{0, 100}}, nil},
		{"no SEEK_DATA, empty file", fakeSeek(0, nil, unix.EINVAL), 0, nil, nil},
		{"holes everywhere", fakeSeek(100, []Extent{{10, 5}, {50, 10}}, nil), 100, []Extent{{10, 5}, {50, 10}}, nil},
		{"data to EOF", fakeSeek(100, []Extent{{90, 10}}, nil), 100, []Extent{{90, 10}}, nil},
		{"extent past size is cut", fakeSeek(200, []Extent{{90, 100}}, nil), 100, []Extent{{90, 10}}, nil},
		{"data only past size", fakeSeek(200, []Extent{{150, 10}}, nil), 100, nil, nil},
		{"I/O error", fakeSeek(0, nil, unix.EIO), 100, nil, unix.EIO},
		{"lseek that never advances", stuck, 100, nil, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dataExtents(tc.seek, tc.size)
			if tc.wantErr == errAny && err != nil {
				return
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) || !slices.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestCreateSparseTruncatesExisting(t *testing.T) {
	path := t.TempDir() + "/file"
	writeFile(t, path, bytes.Repeat([]byte("old"), 1000))
	f, err := CreateSparse(path, 10, 0o600)
	mustDo(t, err)
	mustDo(t, f.Close())
	got, err := os.ReadFile(path)
	mustDo(t, err)
	if !bytes.Equal(got, make([]byte, 10)) {
		t.Errorf("old content survived: %q", got)
	}
}

// A hostile tree can put a symlink where a file will be restored; writing
// through it would escape the restore target.
func TestCreateSparseRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/outside", []byte("precious"))
	mustDo(t, os.Symlink("outside", dir+"/file"))
	if f, err := CreateSparse(dir+"/file", 0, 0o600); err == nil {
		f.Close()
		t.Fatal("CreateSparse followed a symlink")
	}
	if got, _ := os.ReadFile(dir + "/outside"); string(got) != "precious" {
		t.Errorf("symlink target changed to %q", got)
	}
}
