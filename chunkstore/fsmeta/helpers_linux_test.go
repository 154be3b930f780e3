package fsmeta

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// testFS is a scratch directory on one of the filesystems the tests cover:
// t.TempDir (ext4 on the dev machines) and /dev/shm (tmpfs), because their
// support for holes and xattrs differs in ways the package must handle.
type testFS struct {
	dir    string
	fstype string
}

// forEachFS runs fn in a subtest per filesystem, each with a fresh directory.
func forEachFS(t *testing.T, fn func(t *testing.T, fsys testFS)) {
	t.Helper()
	roots := []struct{ name, parent string }{{"tempdir", ""}, {"devshm", "/dev/shm"}}
	for _, r := range roots {
		t.Run(r.name, func(t *testing.T) {
			dir := scratchDir(t, r.parent)
			fsys := testFS{dir: dir, fstype: fsTypeName(t, dir)}
			t.Logf("%s is on %s", dir, fsys.fstype)
			fn(t, fsys)
		})
	}
}

func scratchDir(t *testing.T, parent string) string {
	t.Helper()
	if parent == "" {
		return t.TempDir()
	}
	if _, err := os.Stat(parent); err != nil {
		skipUnlessCI(t, "%s is not available: %v", parent, err)
	}
	dir, err := os.MkdirTemp(parent, "fsmeta-test-")
	if err != nil {
		t.Fatalf("scratch dir in %s: %v", parent, err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func fsTypeName(t *testing.T, path string) string {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		t.Fatalf("statfs %s: %v", path, err)
	}
	switch st.Type {
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlay"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	}
	return fmt.Sprintf("fs-magic-%#x", st.Type)
}

func (f testFS) path(name string) string { return filepath.Join(f.dir, name) }

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustLstat(t *testing.T, path string) Meta {
	t.Helper()
	m, err := Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// skipUnlessCI skips a test whose machine lacks a capability, except in CI
// (CI=true), where every test must run: there the missing capability is a
// broken machine and fails.
func skipUnlessCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must run this test: "+format, args...)
	}
	t.Skipf(format, args...)
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipUnlessCI(t, "needs root (CAP_CHOWN, CAP_MKNOD)")
	}
}
