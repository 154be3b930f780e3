package archiver_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/checker"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

func backup(t *testing.T, r *repo.Repository, paths []string, opts archiver.Options) *archiver.Result {
	t.Helper()
	res, err := archiver.Backup(context.Background(), r, paths, opts)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if len(res.Warnings) > 0 {
		t.Fatalf("backup warnings: %v", res.Warnings)
	}
	return res
}

func restore(t *testing.T, r *repo.Repository, snap *snapshot.Snapshot, opts restorer.Options) {
	t.Helper()
	res, err := restorer.Restore(context.Background(), r, snap, opts)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if len(res.Warnings) > 0 {
		t.Fatalf("restore warnings: %v", res.Warnings)
	}
}

func mustCheck(t *testing.T, r *repo.Repository, readData bool) {
	t.Helper()
	rep, err := checker.Check(context.Background(), r, checker.Options{ReadData: readData})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if !rep.OK() {
		t.Fatalf("check found problems: %v", rep.Problems)
	}
}

func TestRoundTripEveryBackend(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	testtree.Build(t, src, testtree.Spec{Seed: 1, SmallFiles: 40, LargeSize: 40 << 20, Sparse: true, Xattrs: true})
	xattrs := testtree.XattrsSupported(src)
	t.Logf("user xattrs supported in %s: %v", src, xattrs)
	for _, be := range repotest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			store := be.New(t)
			r := repotest.Init(t, store)
			res := backup(t, r, []string{src}, archiver.Options{})
			// Reopen from the store alone, as another process would.
			r2 := repotest.Open(t, store)
			dst := t.TempDir()
			restore(t, r2, res.Snapshot, restorer.Options{Target: dst})
			testtree.Compare(t, src, filepath.Join(dst, "src"))
			mustCheck(t, r2, true)
		})
	}
}

func TestIncludeSubtree(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	testtree.Build(t, src, testtree.Spec{Seed: 2, SmallFiles: 12})
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	res := backup(t, r, []string{src}, archiver.Options{})
	dst := t.TempDir()
	restore(t, r, res.Snapshot, restorer.Options{Target: dst, Include: "/src/a/b"})
	testtree.Compare(t, filepath.Join(src, "a/b"), filepath.Join(dst, "b"))
	if _, err := os.Stat(filepath.Join(dst, "a")); !os.IsNotExist(err) {
		t.Fatalf("restore of /src/a/b also wrote other paths: %v", err)
	}
	_, err := restorer.Restore(context.Background(), r, res.Snapshot, restorer.Options{Target: dst, Include: "/src/nope"})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("/src/nope")) {
		t.Fatalf("restore of a missing path: err = %v, want one naming the path", err)
	}
}

func TestBlockImageWithZeroExtents(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	const mib = 1 << 20
	data := make([]byte, 64*mib)
	for i := 0; i < 64; i++ {
		if i%3 == 0 {
			continue // every third MiB stays zero
		}
		copy(data[i*mib:], testtree.Random(uint64(i), mib))
	}
	if err := os.WriteFile(img, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	res := backup(t, r, []string{img}, archiver.Options{Block: true})
	if res.Snapshot.Kind != snapshot.KindBlock {
		t.Fatalf("kind = %q", res.Snapshot.Kind)
	}
	nonZero := int64(64-22) * mib
	if added := res.Snapshot.Stats.BytesAdded; added > nonZero+mib {
		t.Fatalf("stored %d bytes of data for %d non-zero bytes: zero extents were stored", added, nonZero)
	}
	dst := t.TempDir()
	restore(t, r, res.Snapshot, restorer.Options{Target: dst})
	got, err := os.ReadFile(filepath.Join(dst, "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("restored image differs from the source")
	}
	mustCheck(t, r, true)
}
