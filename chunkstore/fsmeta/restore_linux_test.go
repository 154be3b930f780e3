package fsmeta

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSetModeSpecialBits(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys testFS) {
		writeFile(t, fsys.path("file"), nil)
		mustDo(t, os.Mkdir(fsys.path("dir"), 0o700))
		tests := []struct {
			name string
			path string
			mode uint32
		}{
			{"setuid file", "file", 0o4755},
			{"setgid file", "file", 0o2711},
			{"every bit", "file", 0o7777},
			{"no bits", "file", 0},
			{"sticky dir", "dir", 0o1777},
			{"setgid dir", "dir", 0o2770},
			{"type bits ignored", "file", unix.S_IFDIR | 0o640},
		}
		for _, tc := range tests {
			mustDo(t, SetMode(fsys.path(tc.path), tc.mode))
			if got := mustLstat(t, fsys.path(tc.path)).Mode; got != tc.mode&0o7777 {
				t.Errorf("%s: mode %#o, want %#o", tc.name, got, tc.mode&0o7777)
			}
		}
	})
}

// chmod on a symlink changes its target. SetMode must refuse instead.
func TestSetModeRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/target", nil)
	mustDo(t, os.Chmod(dir+"/target", 0o644))
	mustDo(t, Symlink("target", dir+"/link"))
	if err := SetMode(dir+"/link", 0o777); err == nil {
		t.Error("SetMode on a symlink succeeded")
	}
	if got := mustLstat(t, dir+"/target").Mode; got != 0o644 {
		t.Errorf("target mode became %#o", got)
	}
}

func TestSetTimes(t *testing.T) {
	const atime, mtime = 1_500_000_000_111_222_333, 1_600_000_000_444_555_666
	forEachFS(t, func(t *testing.T, fsys testFS) {
		target, link, dir := fsys.path("target"), fsys.path("link"), fsys.path("dir")
		writeFile(t, target, []byte("x"))
		mustDo(t, os.Mkdir(dir, 0o755))
		mustDo(t, Symlink("target", link))
		before := mustLstat(t, target)
		for _, path := range []string{link, target, dir} {
			mustDo(t, SetTimes(path, atime, mtime))
			if m := mustLstat(t, path); m.AtimeNs != atime || m.MtimeNs != mtime {
				t.Errorf("%s (%v): atime %d mtime %d, want %d %d", path, m.Kind, m.AtimeNs, m.MtimeNs, atime, mtime)
			}
			if path == link {
				if after := mustLstat(t, target); after.MtimeNs != before.MtimeNs {
					t.Errorf("SetTimes on the link moved the target's mtime to %d", after.MtimeNs)
				}
			}
		}
	})
}

func TestSetOwnerAsRoot(t *testing.T) {
	requireRoot(t)
	forEachFS(t, func(t *testing.T, fsys testFS) {
		target, link := fsys.path("target"), fsys.path("link")
		writeFile(t, target, nil)
		mustDo(t, Symlink("target", link))
		mustDo(t, SetOwner(target, 1234, 5678))
		mustDo(t, SetOwner(link, 4321, 8765))
		if m := mustLstat(t, target); m.UID != 1234 || m.GID != 5678 {
			t.Errorf("target owner %d:%d, want 1234:5678 (the link's chown must not reach it)", m.UID, m.GID)
		}
		if m := mustLstat(t, link); m.UID != 4321 || m.GID != 8765 {
			t.Errorf("link owner %d:%d, want 4321:8765", m.UID, m.GID)
		}
	})
}

// chown clears setuid; the documented order (SetOwner, then SetMode) keeps it.
func TestOwnerThenModeKeepsSetuid(t *testing.T) {
	requireRoot(t)
	path := t.TempDir() + "/file"
	writeFile(t, path, nil)
	mustDo(t, SetOwner(path, 1000, 1000))
	mustDo(t, SetMode(path, 0o6755))
	if m := mustLstat(t, path); m.Mode != 0o6755 || m.UID != 1000 {
		t.Errorf("mode %#o uid %d, want 6755 and 1000", m.Mode, m.UID)
	}
}

const fsImmutableFL = 0x10 // FS_IMMUTABLE_FL from linux/fs.h

// Root cannot chown an immutable file: a real EPERM, the errno a non-root
// restore gets, to show it comes back wrapping ErrNotPermitted.
func TestSetOwnerNotPermitted(t *testing.T) {
	requireRoot(t)
	forEachFS(t, func(t *testing.T, fsys testFS) {
		path := fsys.path("immutable")
		writeFile(t, path, nil)
		setImmutable(t, path)
		err := SetOwner(path, 1, 1)
		if !errors.Is(err, ErrNotPermitted) || !errors.Is(err, unix.EPERM) {
			t.Errorf("err = %v, want EPERM wrapping ErrNotPermitted", err)
		}
	})
}

func setImmutable(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	mustDo(t, err)
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err == nil {
		err = unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags|fsImmutableFL))
	}
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) {
		skipUnlessCI(t, "filesystem has no immutable flag, so no EPERM for root: %v", err)
	}
	mustDo(t, err)
	// Clear it before the directory is removed, or the cleanup fails.
	t.Cleanup(func() {
		f, err := os.Open(path)
		if err == nil {
			err = unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags))
			f.Close()
		}
		if err != nil {
			t.Errorf("clear immutable flag on %s: %v", path, err)
		}
	})
}

func TestMknod(t *testing.T) {
	requireRoot(t) // devices
	forEachFS(t, func(t *testing.T, fsys testFS) {
		tests := []struct {
			name string
			meta Meta
		}{
			{"fifo", Meta{Kind: KindFIFO, Mode: 0o640, Rdev: 99}}, // Rdev ignored
			{"chardev", Meta{Kind: KindCharDev, Mode: 0o666, Rdev: unix.Mkdev(1, 3)}},
			{"blockdev", Meta{Kind: KindBlockDev, Mode: 0o660, Rdev: unix.Mkdev(259, 70000)}},
		}
		for _, tc := range tests {
			path := fsys.path(tc.name)
			mustDo(t, Mknod(path, tc.meta))
			mustDo(t, SetMode(path, tc.meta.Mode)) // the umask applied at creation
			m := mustLstat(t, path)
			wantRdev := tc.meta.Rdev
			if tc.meta.Kind == KindFIFO {
				wantRdev = 0
			}
			if m.Kind != tc.meta.Kind || m.Mode != tc.meta.Mode || m.Rdev != wantRdev {
				t.Errorf("%s: got %v %#o rdev %#x, want %v %#o rdev %#x",
					tc.name, m.Kind, m.Mode, m.Rdev, tc.meta.Kind, tc.meta.Mode, wantRdev)
			}
		}
	})
}

func TestMknodRefusesOtherKinds(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []Kind{KindSocket, KindFile, KindDir, KindSymlink, KindUnknown} {
		if err := Mknod(dir+"/"+k.String(), Meta{Kind: k, Mode: 0o644}); err == nil {
			t.Errorf("Mknod made a %v", k)
		}
		if _, err := os.Lstat(dir + "/" + k.String()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Mknod of a %v left an entry behind", k)
		}
	}
}

func TestEmptyFileAndDir(t *testing.T) {
	dir := t.TempDir()
	f, err := CreateSparse(dir+"/empty", 0, 0o644)
	mustDo(t, err)
	ext, err := DataExtents(f, 0)
	mustDo(t, f.Close())
	if err != nil || ext != nil {
		t.Errorf("empty file extents %v, %v", ext, err)
	}
	mustDo(t, os.Mkdir(dir+"/emptydir", 0o755))
	if m := mustLstat(t, dir+"/empty"); m.Kind != KindFile || m.Size != 0 {
		t.Errorf("empty file: %+v", m)
	}
	if m := mustLstat(t, dir+"/emptydir"); m.Kind != KindDir {
		t.Errorf("empty dir: %+v", m)
	}
}

// Kernels before 6.6 lack fchmodat2, so SetMode falls back to lstat + chmod.
// This kernel may not take that path, so test it directly.
func TestChmodFallback(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/file", nil)
	mustDo(t, Symlink("file", dir+"/link"))
	mustDo(t, chmodNoFollow(dir+"/file", 0o4750))
	if m := mustLstat(t, dir+"/file"); m.Mode != 0o4750 {
		t.Errorf("mode %#o, want 4750", m.Mode)
	}
	if err := chmodNoFollow(dir+"/link", 0o777); err == nil {
		t.Error("fallback chmod went through a symlink")
	}
	if m := mustLstat(t, dir+"/file"); m.Mode != 0o4750 {
		t.Errorf("target mode changed to %#o", m.Mode)
	}
}
