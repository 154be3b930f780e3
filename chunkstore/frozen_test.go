package chunkstore_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
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

// Frozen repositories, one per format version, each written once with
// -update-frozen (which writes the current version's) and required to keep
// opening, checking, restoring and taking new backups with every later
// cairn: a failure here means a format change without a version bump.
func frozenDir(version int) string { return fmt.Sprintf("testdata/repo-v%d", version) }

var updateFrozen = flag.Bool("update-frozen", false, "rewrite the frozen repository of the current format version (only when bumping it)")

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

func TestFrozenRepositories(t *testing.T) {
	src := frozenSource(t)
	if *updateFrozen {
		dir := frozenDir(repo.FormatVersion)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		r := repotest.Init(t, repotest.FS(t, dir))
		if _, err := archiver.Backup(context.Background(), r, []string{src}, archiver.Options{Hostname: "frozen"}); err != nil {
			t.Fatal(err)
		}
	}
	for version := 1; version <= repo.FormatVersion; version++ {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) { testFrozen(t, version, src, "") })
		// The same repository through the on-disk index cache, built from
		// its index files on first use.
		t.Run(fmt.Sprintf("v%d index cache", version), func(t *testing.T) { testFrozen(t, version, src, t.TempDir()) })
	}
}

func testFrozen(t *testing.T, version int, src, cache string) {
	// Work on a copy so the test never writes into testdata (sessions).
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(frozenDir(version))); err != nil {
		t.Fatal(err)
	}
	r := openFrozen(t, dir, cache)
	if v := r.Config().Version; v != version {
		t.Fatalf("frozen repository %s has config version %d", frozenDir(version), v)
	}
	checkAndRestore(t, r, src)
	// A new backup into the old repository is written in its own format:
	// check --read-data verifies every pack name by that version's rule.
	if err := os.WriteFile(filepath.Join(src, "added.txt"), testtree.Text(3, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(filepath.Join(src, "added.txt"))
	if _, err := archiver.Backup(context.Background(), r, []string{src}, archiver.Options{Hostname: "later"}); err != nil {
		t.Fatal(err)
	}
	r = openFrozen(t, dir, cache)
	checkAndRestore(t, r, src)
	if m, _ := filepath.Glob(filepath.Join(cache, "*", "manifest.json")); cache != "" && len(m) != 1 {
		t.Fatalf("the index cache was not built: %v", m)
	}
}

func openFrozen(t *testing.T, dir, cache string) *repo.Repository {
	t.Helper()
	opts := repotest.Options()
	opts.IndexCache = cache
	r, err := repo.Open(context.Background(), repotest.FS(t, dir), repotest.Password, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkAndRestore checks every byte of r, restores its latest snapshot and
// compares it with src.
func checkAndRestore(t *testing.T, r *repo.Repository, src string) {
	t.Helper()
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
	names := []string{"hello.txt", "docs/notes.md", "docs/empty", "data/random.bin"}
	if _, err := os.Stat(filepath.Join(src, "added.txt")); err == nil {
		names = append(names, "added.txt")
	}
	for _, name := range names {
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
