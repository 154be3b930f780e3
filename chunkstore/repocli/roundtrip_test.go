package repocli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

// buildSource creates the tree every round-trip test backs up: text files in
// nested directories, a 1 MiB random file, an empty file, symlinks, hard
// links, a fifo and a setuid executable.
func buildSource(t *testing.T, h *harness) string {
	t.Helper()
	src := filepath.Join(h.dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 42, SmallFiles: 40, LargeSize: 1 << 20})
	return src
}

func TestRoundTrip(t *testing.T) {
	h := newHarness(t)
	src := buildSource(t, h)
	if r := h.ok("init"); !strings.Contains(r.stdout, "created repository") {
		t.Fatalf("init printed %q", r.stdout)
	}

	var first backupJSON
	h.okJSON(&first, "backup", src)
	if first.BytesAdded == 0 || first.Files < 40 || first.Dirs < 4 || len(first.Warnings) != 0 || first.Parent != "" {
		t.Fatalf("first backup: %+v", first)
	}
	if first.Stages.Workers < 1 || first.Stages.WallSeconds <= 0 {
		t.Fatalf("first backup stages: %+v", first.Stages)
	}

	var snaps []snapshotJSON
	h.okJSON(&snaps, "snapshots")
	if len(snaps) != 1 || snaps[0].ID != first.SnapshotID || len(snaps[0].Paths) != 1 || snaps[0].Paths[0] != src {
		t.Fatalf("snapshots: %+v", snaps)
	}

	checkLs(t, h)

	out := filepath.Join(h.dir, "out")
	if r := h.ok("restore", "latest", "--target", out); !strings.Contains(r.stdout, "restored snapshot") {
		t.Fatalf("restore printed %q", r.stdout)
	}
	testtree.Compare(t, src, filepath.Join(out, "src"))

	var second backupJSON
	h.okJSON(&second, "backup", src)
	if second.Parent != first.SnapshotID || second.BytesAdded*100 > first.Bytes || second.BytesRead != 0 {
		t.Fatalf("second backup of an unchanged tree: %+v", second)
	}
	var forced backupJSON
	h.okJSON(&forced, "backup", "--force", src)
	if forced.Parent != "" || forced.BytesRead != forced.Bytes || forced.BytesAdded*100 > forced.Bytes {
		t.Fatalf("forced backup of an unchanged tree: %+v", forced)
	}

	r := h.ok("forget", first.SnapshotID[:8], second.SnapshotID)
	if strings.Count(r.stdout, "removed snapshot") != 2 {
		t.Fatalf("forget printed %q", r.stdout)
	}
	h.okJSON(&snaps, "snapshots")
	if len(snaps) != 1 || snaps[0].ID != forced.SnapshotID {
		t.Fatalf("snapshots after forget: %+v", snaps)
	}
	if r := h.ok("check"); !strings.Contains(r.stdout, "no problems") {
		t.Fatalf("check printed %q", r.stdout)
	}
	checkStats(t, h, 1)
}

func checkLs(t *testing.T, h *harness) {
	t.Helper()
	r := h.ok("ls", "latest")
	for _, want := range []string{
		"/src/a/link-to-c -> b/c", "/src/dangling -> /nonexistent/target",
		"-rwsr-xr-x", "/src/empty\n", "/src/a/b/c\n", "/src/large.bin\n", "prw-------",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ls latest: output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = h.ok("ls", "latest", "/src/a/b")
	if !strings.HasPrefix(r.stdout, "d") || !strings.Contains(r.stdout, "/src/a/b/c\n") || strings.Contains(r.stdout, "/src/empty") {
		t.Errorf("ls latest /src/a/b:\n%s", r.stdout)
	}
	var entries []lsJSON
	h.okJSON(&entries, "ls", "latest", "src/empty")
	if len(entries) != 1 || entries[0].Path != "/src/empty" || entries[0].Size != 0 || entries[0].Mode != "0600" || entries[0].Type != "file" {
		t.Errorf("ls --json latest src/empty: %+v", entries)
	}
	h.fails(1, `"/src/nope" is not in the snapshot`, "ls", "latest", "/src/nope")
}

func checkStats(t *testing.T, h *harness, snapshots int) {
	t.Helper()
	var st statsJSON
	h.okJSON(&st, "stats")
	if st.Snapshots != snapshots || st.Packs == 0 || st.PackBytes == 0 || st.Blobs == 0 ||
		st.UniqueBytes == 0 || st.DedupRatio <= 0 || st.CompressionRatio <= 0 {
		t.Fatalf("stats: %+v", st)
	}
	if r := h.ok("stats"); !strings.Contains(r.stdout, "dedup ratio") {
		t.Fatalf("stats printed %q", r.stdout)
	}
}

func TestRestoreInclude(t *testing.T) {
	h := newHarness(t)
	src := buildSource(t, h)
	h.ok("init")
	h.ok("backup", "--tag", "app=db", src)
	out := filepath.Join(h.dir, "out")
	var res restoreJSON
	h.okJSON(&res, "restore", "latest", "--target", out, "--include", "/src/a/b")
	testtree.Compare(t, filepath.Join(src, "a/b"), filepath.Join(out, "b"))
	if _, err := os.Lstat(filepath.Join(out, "src")); !os.IsNotExist(err) {
		t.Errorf("restore --include wrote more than the included path: %v", err)
	}
	if res.Files == 0 || len(res.Warnings) != 0 {
		t.Errorf("restore --include result: %+v", res)
	}
	h.fails(1, "is not in the snapshot", "restore", "latest", "--target", out, "--include", "/src/missing", "--overwrite")

	var snaps []snapshotJSON
	h.okJSON(&snaps, "snapshots", "--tag", "app=db")
	if len(snaps) != 1 || len(snaps[0].Tags) != 1 {
		t.Fatalf("snapshots --tag app=db: %+v", snaps)
	}
	h.okJSON(&snaps, "snapshots", "--tag", "app=web")
	if len(snaps) != 0 {
		t.Fatalf("snapshots --tag app=web: %+v", snaps)
	}
}
