package testtree

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Spec chooses what a generated tree contains.
type Spec struct {
	Seed       uint64
	SmallFiles int   // text-like files of 1..64 KiB
	LargeSize  int64 // one random file of this size (0: none)
	Sparse     bool  // a sparse file with holes at start, middle and end
	Xattrs     bool  // user.* xattrs where the filesystem allows them
}

// Random returns n reproducible pseudo-random bytes.
func Random(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Text returns n bytes of reproducible, compressible, text-like data.
func Text(seed uint64, n int) []byte {
	words := []string{"cairn ", "backup ", "volume ", "snapshot ", "restore ", "chunk ", "pack\n", "index ", "node ", "data\t"}
	r := rand.New(rand.NewPCG(seed, 7))
	var buf bytes.Buffer
	for buf.Len() < n {
		buf.WriteString(words[r.IntN(len(words))])
	}
	return buf.Bytes()[:n]
}

// Build creates the tree under dir. Xattrs are set only where the
// filesystem accepts them; XattrsSupported tells callers which case holds.
func Build(t testing.TB, dir string, s Spec) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(s.Seed, 3))
	must(os.MkdirAll(filepath.Join(dir, "a/b/c"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "empty-dir"), 0o700))
	for i := range s.SmallFiles {
		sub := []string{"", "a", "a/b", "a/b/c"}[i%4]
		p := filepath.Join(dir, sub, fmt.Sprintf("f%04d.txt", i))
		must(os.WriteFile(p, Text(s.Seed+uint64(i), 1024+r.IntN(63*1024)), 0o644))
	}
	must(os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600))
	must(os.WriteFile(filepath.Join(dir, "a/exec.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(os.Chmod(filepath.Join(dir, "a/exec.sh"), 0o4755|fs.ModeSetuid))
	must(os.Symlink("b/c", filepath.Join(dir, "a/link-to-c")))
	must(os.Symlink("/nonexistent/target", filepath.Join(dir, "dangling")))
	must(os.WriteFile(filepath.Join(dir, "a/hard1"), Text(s.Seed+99, 5000), 0o640))
	must(os.Link(filepath.Join(dir, "a/hard1"), filepath.Join(dir, "a/b/hard2")))
	must(unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	if s.LargeSize > 0 {
		must(os.WriteFile(filepath.Join(dir, "large.bin"), Random(s.Seed+1000, int(s.LargeSize)), 0o600))
	}
	if s.Sparse {
		buildSparse(t, filepath.Join(dir, "sparse.img"), s.Seed)
	}
	if s.Xattrs {
		_ = unix.Lsetxattr(filepath.Join(dir, "a/hard1"), "user.cairn.test", []byte("value-1"), 0)
		_ = unix.Lsetxattr(filepath.Join(dir, "a"), "user.cairn.dir", []byte{0, 1, 2}, 0)
	}
	old := int64(1_600_000_000_000_000_000)
	must(os.Chtimes(filepath.Join(dir, "a/b/c"), timeOf(old), timeOf(old)))
	must(unix.Lutimes(filepath.Join(dir, "dangling"), []unix.Timeval{{Sec: 1_500_000_000}, {Sec: 1_500_000_000}}))
}

func buildSparse(t testing.TB, path string, seed uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 48 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{4 << 20, 20 << 20, 40 << 20} {
		if _, err := f.WriteAt(Random(seed+uint64(off), 3<<20), off); err != nil {
			t.Fatal(err)
		}
	}
}

// Entry is what Compare looks at for one path.
type Entry struct {
	Mode   fs.FileMode
	UID    uint32
	GID    uint32
	Size   int64
	Mtime  int64
	Link   string
	Xattrs map[string]string
	Ino    uint64
	Blocks int64
}

// Scan records every entry under dir, keyed by relative path.
func Scan(t testing.TB, dir string) map[string]Entry {
	t.Helper()
	out := map[string]Entry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		info, _ := d.Info()
		e := Entry{Mode: info.Mode(), UID: st.Uid, GID: st.Gid, Size: st.Size,
			Mtime: st.Mtim.Nano(), Ino: st.Ino, Blocks: st.Blocks, Xattrs: xattrs(p)}
		if info.IsDir() {
			e.Size = 0
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			e.Link, _ = os.Readlink(p)
		}
		out[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func xattrs(p string) map[string]string {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil || n == 0 {
		return nil
	}
	m := map[string]string{}
	for _, name := range bytes.Split(buf[:n-1], []byte{0}) {
		if !bytes.HasPrefix(name, []byte("user.")) {
			continue
		}
		v := make([]byte, 4096)
		if k, err := unix.Lgetxattr(p, string(name), v); err == nil {
			m[string(name)] = string(v[:k])
		}
	}
	return m
}

// Compare checks that got holds the same tree as want: same entries, types,
// modes, owners, sizes, mtimes (except the root), link targets, xattrs,
// file bytes, hard-link groups and, for files that were sparse, holes.
func Compare(t testing.TB, want, got string) {
	t.Helper()
	CompareDamaged(t, want, got, nil)
}

// CompareDamaged is Compare for a restore that reported damaged files:
// those (relative paths) must still be there with every attribute but
// their content, which is not compared.
func CompareDamaged(t testing.TB, want, got string, damaged map[string]bool) {
	t.Helper()
	w, g := Scan(t, want), Scan(t, got)
	var names []string
	for n := range w {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		we, ge := w[n], g[n]
		if _, ok := g[n]; !ok {
			t.Errorf("%s: missing from restore", n)
			continue
		}
		compareEntry(t, n, we, ge, n == ".")
		if we.Mode.IsRegular() && !damaged[n] && !bytes.Equal(read(t, filepath.Join(want, n)), read(t, filepath.Join(got, n))) {
			t.Errorf("%s: content differs", n)
		}
	}
	for n := range g {
		if _, ok := w[n]; !ok {
			t.Errorf("%s: restored but not in the source", n)
		}
	}
	compareLinks(t, w, g)
}

func compareEntry(t testing.TB, n string, we, ge Entry, root bool) {
	t.Helper()
	if we.Mode != ge.Mode {
		t.Errorf("%s: mode %v, want %v", n, ge.Mode, we.Mode)
	}
	if we.UID != ge.UID || we.GID != ge.GID {
		t.Errorf("%s: owner %d:%d, want %d:%d", n, ge.UID, ge.GID, we.UID, we.GID)
	}
	if we.Size != ge.Size {
		t.Errorf("%s: size %d, want %d", n, ge.Size, we.Size)
	}
	if !root && we.Mtime != ge.Mtime {
		t.Errorf("%s: mtime %d, want %d", n, ge.Mtime, we.Mtime)
	}
	if we.Link != ge.Link {
		t.Errorf("%s: link %q, want %q", n, ge.Link, we.Link)
	}
	if fmt.Sprint(we.Xattrs) != fmt.Sprint(ge.Xattrs) {
		t.Errorf("%s: xattrs %v, want %v", n, ge.Xattrs, we.Xattrs)
	}
	if we.Mode.IsRegular() && we.Blocks*512 < we.Size && ge.Blocks > we.Blocks+8 {
		t.Errorf("%s: sparse file restored with %d blocks, source has %d", n, ge.Blocks, we.Blocks)
	}
}

// compareLinks checks that paths sharing an inode in want share one in got.
func compareLinks(t testing.TB, w, g map[string]Entry) {
	t.Helper()
	groups := map[uint64][]string{}
	for n, e := range w {
		if e.Mode.IsRegular() {
			groups[e.Ino] = append(groups[e.Ino], n)
		}
	}
	for _, names := range groups {
		for _, n := range names[1:] {
			if g[n].Ino != g[names[0]].Ino {
				t.Errorf("%s and %s are hard links in the source but not in the restore", names[0], n)
			}
		}
	}
}

func read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// XattrsSupported reports whether dir's filesystem accepts user xattrs.
func XattrsSupported(dir string) bool {
	p := filepath.Join(dir, ".xattr-probe")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		return false
	}
	defer os.Remove(p)
	err := unix.Lsetxattr(p, "user.probe", []byte("1"), 0)
	return err == nil || !errors.Is(err, syscall.ENOTSUP)
}
