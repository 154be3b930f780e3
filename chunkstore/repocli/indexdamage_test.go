package repocli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

// D7: a damaged index file is skipped with a warning and its packs are
// indexed from their headers, so backup, restore and prune go on, and
// every command points at the same fix.
func TestDamagedIndexFile(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	src := filepath.Join(h.dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 6, SmallFiles: 10, LargeSize: 1 << 20})
	var first backupJSON
	h.okJSON(&first, "backup", src)
	entries, err := os.ReadDir(filepath.Join(h.repo, "index"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("want one index file: %v %v", entries, err)
	}
	idx := filepath.Join(h.repo, "index", entries[0].Name())
	b, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(idx, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	const fix = "cairn repo repair --apply"
	for _, args := range [][]string{
		{"restore", first.SnapshotID, "--target", filepath.Join(h.dir, "out")},
		{"backup", "--json", src},
		{"prune", "--grace", "1ns"},
	} {
		r := h.run(args...)
		if r.code != 0 || !strings.Contains(r.stderr, "index/"+entries[0].Name()+" is damaged") || !strings.Contains(r.stderr, fix) ||
			strings.Contains(r.stderr, "cairn repo check") {
			t.Fatalf("%s with a damaged index file: exit %d\nstdout:\n%s\nstderr:\n%s", args[0], r.code, r.stdout, r.stderr)
		}
	}
	testtree.Compare(t, src, filepath.Join(h.dir, "out", "src"))
	r := h.fails(1, "check found 1 problem", "check", "--read-data")
	if !strings.Contains(r.stdout, "index/"+entries[0].Name()) || !strings.Contains(r.stdout, fix) {
		t.Fatalf("check output: %s", r.stdout)
	}
	out2 := filepath.Join(h.dir, "out2")
	h.ok("restore", first.SnapshotID, "--target", out2)
	testtree.Compare(t, src, filepath.Join(out2, "src"))
}
