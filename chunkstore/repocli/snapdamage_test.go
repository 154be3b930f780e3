package repocli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

// D6: one damaged snapshot record costs only itself. The others list,
// back up and prune; the damaged one is named with its fix, and forget
// removes it by its ID.
func TestDamagedSnapshotRecord(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	a := filepath.Join(h.dir, "a")
	b := filepath.Join(h.dir, "b")
	testtree.Build(t, a, testtree.Spec{Seed: 1, SmallFiles: 5})
	testtree.Build(t, b, testtree.Spec{Seed: 2, SmallFiles: 5})
	var first, second backupJSON
	h.okJSON(&first, "backup", a)
	h.okJSON(&second, "backup", b)
	corruptFile(t, filepath.Join(h.repo, "snapshots", first.SnapshotID))

	r := h.run("snapshots")
	short := first.SnapshotID[:8]
	if r.code != ExitWarnings || !strings.Contains(r.stdout, second.SnapshotID[:8]) ||
		!strings.Contains(r.stderr, "snapshot "+short+" is damaged") || !strings.Contains(r.stderr, "cairn repo forget "+short) {
		t.Fatalf("snapshots with one damaged record: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	h.ok("backup", b)
	h.ok("backup", a)
	if r := h.ok("prune"); !strings.Contains(r.stderr, short) {
		t.Fatalf("prune did not warn about the damaged snapshot: %q", r.stderr)
	}
	h.fails(1, "is damaged", "restore", short, "--target", filepath.Join(h.dir, "out"))
	if r := h.fails(1, "check found 1 problem", "check"); !strings.Contains(r.stdout, "snapshots/"+first.SnapshotID) {
		t.Fatalf("check does not name the damaged record: %q", r.stdout)
	}
	h.ok("forget", short)
	if r := h.run("snapshots"); r.code != 0 || r.stderr != "" {
		t.Fatalf("snapshots after forgetting the damaged record: exit %d: %s", r.code, r.stderr)
	}
	h.ok("check", "--read-data")
}
