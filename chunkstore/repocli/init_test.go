package repocli

import (
	"os"
	"path/filepath"
	"testing"
)

// D3 and "init into a non-empty directory": init refuses a directory that
// holds any file, a repository's remains above all; --force only accepts
// one that holds nothing but directories.
func TestInitRefusesNonEmptyDirectories(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	if err := os.Remove(filepath.Join(h.repo, "config")); err != nil {
		t.Fatal(err)
	}
	h.fails(1, "holds repository objects", "init")
	h.fails(1, "holds repository objects", "init", "--force")

	h.repo = filepath.Join(h.dir, "unrelated")
	h.writeFile(filepath.Join(h.dir, "unrelated-file"), "")
	if err := os.MkdirAll(filepath.Join(h.repo, "docs"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.writeFile(filepath.Join(h.repo, "docs", "notes.txt"), "mine")
	h.fails(1, "holds docs/notes.txt, which is not part of a repository", "init")
	h.fails(1, "holds docs/notes.txt", "init", "--force")

	h.repo = filepath.Join(h.dir, "fresh-fs")
	if err := os.MkdirAll(filepath.Join(h.repo, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.fails(1, "pass --force", "init")
	h.ok("init", "--force")
	h.ok("snapshots")
}
