package chunkstore_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/checker"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// The frozen repository of format version 1. It was written once with
// -update-frozen and must keep opening, checking and restoring with every
// later cairn: a failure here means a format change without a version bump.
const frozenDir = "testdata/repo-v1"

var updateFrozen = flag.Bool("update-frozen", false, "rewrite the frozen repository (only when bumping the format version)")

func frozenSource(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "src")
	files := map[string][]byte{
		"hello.txt":       []byte("hello from cairn format v1\n"),
		"docs/notes.md":   testtree.Text(1, 20000),
		"docs/empty":      nil,
		"data/random.bin": testtree.Random(2, 700<<10),
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("docs/notes.md", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFrozenRepositoryV1(t *testing.T) {
	src := frozenSource(t)
	if *updateFrozen {
		if err := os.RemoveAll(frozenDir); err != nil {
			t.Fatal(err)
		}
		r := repotest.Init(t, repotest.FS(t, frozenDir))
		if _, err := archiver.Backup(context.Background(), r, []string{src}, archiver.Options{Hostname: "frozen"}); err != nil {
			t.Fatal(err)
		}
	}
	// Work on a copy so the test never writes into testdata (sessions).
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(frozenDir)); err != nil {
		t.Fatal(err)
	}
	r := repotest.Open(t, repotest.FS(t, dir))
	if v := r.Config().Version; v != 1 {
		t.Fatalf("frozen repository has config version %d", v)
	}
	rep, err := checker.Check(context.Background(), r, checker.Options{ReadData: true})
	if err != nil || !rep.OK() {
		t.Fatalf("check of the frozen repository: %v %v", err, rep.Problems)
	}
	snap, err := snapshot.Find(context.Background(), r, "latest")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := restorer.Restore(context.Background(), r, snap.Snapshot, restorer.Options{Target: dst}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hello.txt", "docs/notes.md", "docs/empty", "data/random.bin"} {
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(dst, "src", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s restored from the frozen repository differs (err %v)", name, err)
		}
	}
	if target, err := os.Readlink(filepath.Join(dst, "src", "link")); err != nil || target != "docs/notes.md" {
		t.Fatalf("symlink: %q %v", target, err)
	}
}
