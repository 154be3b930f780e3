package archiver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// An incremental backup reuses the parent's xattrs only for entries whose
// inode and ctime are unchanged: a changed xattr must be read again.
func TestIncrementalSeesChangedXattrs(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if !testtree.XattrsSupported(src) {
		if os.Getenv("CI") != "" {
			t.Fatalf("user xattrs are not supported in %s", src)
		}
		t.Skipf("user xattrs are not supported in %s", src)
	}
	for _, name := range []string{"kept", "changed"} {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := unix.Lsetxattr(p, "user.v", []byte("1"), 0); err != nil {
			t.Fatal(err)
		}
	}
	r := repotest.Init(t, mem.New())
	first := backup(t, r, []string{src}, archiver.Options{})
	if err := unix.Lsetxattr(filepath.Join(src, "changed"), "user.v", []byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	second := backup(t, r, []string{src}, archiver.Options{Parent: first.Snapshot})
	got := map[string]string{}
	root, err := snapshot.LoadTree(context.Background(), r, second.Snapshot.Tree)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := snapshot.LoadTree(context.Background(), r, root[0].Subtree)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		for _, x := range n.Xattrs {
			if x.Name == "user.v" {
				got[n.Name] = string(x.Value)
			}
		}
	}
	if got["kept"] != "1" || got["changed"] != "2" {
		t.Fatalf("xattr user.v after the incremental backup: %v, want kept=1 changed=2", got)
	}
}
