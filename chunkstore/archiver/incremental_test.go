package archiver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/blob"
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

// countingStore counts reads of pack objects.
type countingStore struct {
	blob.Store
	packGets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	if strings.HasPrefix(name, "data/") {
		s.packGets.Add(1)
	}
	return s.Store.Get(ctx, name, off, n)
}

// An incremental backup of an unchanged tree reads its parent's trees a
// pack at a time, not a directory at a time: on an object store every read
// is a round trip.
func TestIncrementalReadsTreePacksOnce(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	for d := range 200 {
		dir := filepath.Join(src, fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte(dir), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store := mem.New()
	r := repotest.Init(t, store)
	first := backup(t, r, []string{src}, archiver.Options{})
	counting := &countingStore{Store: store}
	r2 := repotest.Open(t, counting)
	backup(t, r2, []string{src}, archiver.Options{Parent: first.Snapshot})
	if n := counting.packGets.Load(); n > 3 {
		t.Fatalf("incremental backup of 200 unchanged directories made %d pack reads, want at most 3", n)
	}
}

// A tree copied afresh (as a snapshot mounted as a new volume is) has new
// inodes and change times: with IgnoreInode only files whose size or mtime
// changed are read again; without it every file is.
func TestIgnoreInodeReadsOnlyChangedFilesOfACopy(t *testing.T) {
	first := filepath.Join(t.TempDir(), "vol")
	copyDir := filepath.Join(t.TempDir(), "vol")
	for _, d := range []string{first, copyDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		data := []byte(strings.Repeat(fmt.Sprintf("file %d ", i), 500))
		when := time.Unix(1700000000+int64(i), 0)
		for _, d := range []string{first, copyDir} {
			p := filepath.Join(d, fmt.Sprintf("f%02d", i))
			if i == 7 && d == copyDir {
				data = append(data, "changed"...)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, when, when); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := repotest.Init(t, mem.New())
	parent := backup(t, r, []string{first}, archiver.Options{})
	strict := backup(t, r, []string{copyDir}, archiver.Options{Parent: parent.Snapshot})
	loose := backup(t, r, []string{copyDir}, archiver.Options{Parent: parent.Snapshot, IgnoreInode: true})
	size := int64(len(strings.Repeat("file 7 ", 500)) + len("changed"))
	if got := loose.Snapshot.Stats.BytesRead; got != size {
		t.Errorf("with IgnoreInode %d bytes were read, want only the changed file's %d", got, size)
	}
	if got := strict.Snapshot.Stats.BytesRead; got < 10*size {
		t.Errorf("without IgnoreInode only %d bytes were read; a copy must be read again", got)
	}
}
