package fsmeta

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLstatKinds(t *testing.T) {
	requireRoot(t) // device nodes
	forEachFS(t, func(t *testing.T, fsys testFS) {
		writeFile(t, fsys.path("file"), []byte("hello"))
		writeFile(t, fsys.path("empty"), nil)
		mustDo(t, os.Mkdir(fsys.path("dir"), 0o755))
		mustDo(t, os.Symlink("no/such/target", fsys.path("link")))
		mustDo(t, unix.Mkfifo(fsys.path("fifo"), 0o644))
		mustDo(t, unix.Mknod(fsys.path("chr"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))))
		mustDo(t, unix.Mknod(fsys.path("blk"), unix.S_IFBLK|0o600, int(unix.Mkdev(7, 200))))
		ln, err := net.Listen("unix", fsys.path("sock"))
		mustDo(t, err)
		defer ln.Close()

		tests := []struct {
			name string
			kind Kind
			size int64
			rdev uint64
		}{
			{"file", KindFile, 5, 0},
			{"empty", KindFile, 0, 0},
			{"dir", KindDir, -1, 0},
			{"link", KindSymlink, int64(len("no/such/target")), 0},
			{"fifo", KindFIFO, 0, 0},
			{"chr", KindCharDev, 0, unix.Mkdev(1, 3)},
			{"blk", KindBlockDev, 0, unix.Mkdev(7, 200)},
			{"sock", KindSocket, 0, 0},
		}
		for _, tc := range tests {
			m := mustLstat(t, fsys.path(tc.name))
			if m.Kind != tc.kind || (tc.size >= 0 && m.Size != tc.size) || m.Rdev != tc.rdev {
				t.Errorf("%s: kind %v size %d rdev %#x; want %v %d %#x",
					tc.name, m.Kind, m.Size, m.Rdev, tc.kind, tc.size, tc.rdev)
			}
			if m.Inode == 0 || m.Nlink == 0 || m.MtimeNs == 0 || m.CtimeNs == 0 {
				t.Errorf("%s: identity or times missing: %+v", tc.name, m)
			}
		}
	})
}

func TestLstatDoesNotFollow(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/target", []byte("0123456789"))
	mustDo(t, os.Symlink("target", dir+"/link"))
	link, target := mustLstat(t, dir+"/link"), mustLstat(t, dir+"/target")
	if link.Kind != KindSymlink || link.Inode == target.Inode || link.Size != int64(len("target")) {
		t.Errorf("Lstat followed the link: link %+v, target %+v", link, target)
	}
}

func TestLstatNotExist(t *testing.T) {
	_, err := Lstat(t.TempDir() + "/missing")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("err = %v, want ErrNotExist naming the path", err)
	}
}

// The archiver builds Meta from os.ReadDir results without a second syscall;
// both routes must agree field for field.
func TestFromFileInfoMatchesLstat(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/file", []byte("abc"))
	mustDo(t, os.Chmod(dir+"/file", 0o751|os.ModeSetuid))
	mustDo(t, os.Symlink("file", dir+"/link"))
	mustDo(t, os.Mkdir(dir+"/sub", 0o755))
	mustDo(t, os.Chmod(dir+"/sub", 0o777|os.ModeSticky))
	entries, err := os.ReadDir(dir)
	mustDo(t, err)
	for _, e := range entries {
		fi, err := e.Info()
		mustDo(t, err)
		got, ok := FromFileInfo(fi)
		want := mustLstat(t, dir+"/"+e.Name())
		if !ok || got != want {
			t.Errorf("%s: FromFileInfo = %+v, %v\nLstat = %+v", e.Name(), got, ok, want)
		}
	}
	if m := mustLstat(t, dir+"/file"); m.Mode != 0o4751 {
		t.Errorf("file mode %o, want 4751", m.Mode)
	}
	if m := mustLstat(t, dir+"/sub"); m.Mode != 0o1777 {
		t.Errorf("dir mode %o, want 1777", m.Mode)
	}
}

// Lstat runs once per file on the small-files path. The only allocation
// allowed is the NUL-terminated copy of the path the kernel needs.
func TestLstatAllocations(t *testing.T) {
	path := t.TempDir() + "/file"
	writeFile(t, path, nil)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Lstat(path); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Lstat allocates %v times per call, want at most 1", allocs)
	}
}

func TestHardLinkKeys(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys testFS) {
		writeFile(t, fsys.path("a"), []byte("data"))
		writeFile(t, fsys.path("single"), []byte("data"))
		mustDo(t, Link(fsys.path("a"), fsys.path("b")))
		mustDo(t, os.Mkdir(fsys.path("dir"), 0o755))
		mustDo(t, os.Mkdir(fsys.path("dir/sub"), 0o755))

		a, b := mustLstat(t, fsys.path("a")), mustLstat(t, fsys.path("b"))
		ka, okA := a.LinkKey()
		kb, okB := b.LinkKey()
		if !okA || !okB || ka != kb || a.Nlink != 2 {
			t.Errorf("hard links: keys %+v/%v and %+v/%v, nlink %d", ka, okA, kb, okB, a.Nlink)
		}
		if k, ok := mustLstat(t, fsys.path("single")).LinkKey(); ok || k == ka {
			t.Errorf("single-link file has key %+v, ok %v", k, ok)
		}
		if d := mustLstat(t, fsys.path("dir")); d.Nlink < 2 {
			t.Errorf("dir nlink %d, the test needs > 1", d.Nlink)
		} else if _, ok := d.LinkKey(); ok {
			t.Error("a directory got a link key")
		}
	})
}

// A hard link to a symlink must stay a link to the symlink, not its target.
func TestLinkDoesNotFollowSymlink(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/target", nil)
	mustDo(t, Symlink("target", dir+"/sym"))
	mustDo(t, Link(dir+"/sym", dir+"/sym2"))
	m := mustLstat(t, dir+"/sym2")
	if m.Kind != KindSymlink || m.Nlink != 2 {
		t.Errorf("hard link to symlink: %+v", m)
	}
}

func TestSymlinkReadLinkRoundTrip(t *testing.T) {
	dir := t.TempDir()
	targets := map[string]string{
		"dangling": "does/not/exist",
		"absolute": "/etc/../etc/hostname",
		"dots":     "../../..",
		"long":     strings.Repeat("d/", 900) + "end", // longer than any first guess
		"odd":      "sp ace\ttab\nnewline\xff",
	}
	for name, target := range targets {
		path := dir + "/" + name
		mustDo(t, Symlink(target, path))
		got, err := ReadLink(path)
		if err != nil || got != target {
			t.Errorf("%s: ReadLink = %q, %v", name, got, err)
		}
		if m := mustLstat(t, path); m.Size != int64(len(target)) {
			t.Errorf("%s: Lstat size %d, want %d", name, m.Size, len(target))
		}
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenSource(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenSource(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 7)
	if n, err := f.ReadAt(buf, 0); n != 7 || string(buf) != "content" {
		t.Fatalf("ReadAt = %d %q %v", n, buf, err)
	}
	if _, err := OpenSource(p + ".missing"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), p+".missing") {
		t.Fatalf("open of a missing file: %v, want ErrNotExist naming the path", err)
	}
}
