package repocli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

// repairJSON is the part of repair --json the tests read.
type repairJSON struct {
	Applied      bool     `json:"applied"`
	PacksMissing []string `json:"packs_missing"`
	BlobsCorrupt []struct {
		Blob string `json:"blob"`
	} `json:"blobs_corrupt"`
	IndexFilesDamaged []string `json:"index_files_damaged"`
	Snapshots         []struct {
		ID      string `json:"id"`
		Damaged []struct {
			Path     string `json:"path"`
			Why      string `json:"why"`
			Salvaged bool   `json:"salvaged"`
		} `json:"damaged"`
		Repaired        string `json:"repaired"`
		AlreadyRepaired bool   `json:"already_repaired"`
	} `json:"snapshots"`
}

func (h *harness) repairJSON(args ...string) repairJSON {
	h.t.Helper()
	var rep repairJSON
	h.okJSON(&rep, append([]string{"repair"}, args...)...)
	return rep
}

// listDir names the files of a repository folder.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// The repair command after a lost pack (D8): a dry run names the damaged
// snapshot and files and writes nothing; --apply rebuilds the index and
// writes a snapshot without the lost files, tagged, keeping the original;
// a second run does not repair it again, and once the original is
// forgotten check is clean. The next backup stores the lost data again.
func TestRepairAfterLostPack(t *testing.T) {
	h := newHarness(t)
	h.ok("init", "--compression", "off")
	src := filepath.Join(h.dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 11, SmallFiles: 6, LargeSize: 3 << 20})
	var orig backupJSON
	h.okJSON(&orig, "backup", src)
	if err := os.Remove(packsBySize(t, h.repo)[0]); err != nil {
		t.Fatal(err)
	}
	indexBefore := listDir(t, filepath.Join(h.repo, "index"))

	dry := h.repairJSON()
	if dry.Applied || len(dry.PacksMissing) != 1 || len(dry.Snapshots) != 1 || dry.Snapshots[0].ID != orig.SnapshotID {
		t.Fatalf("dry run: %+v", dry)
	}
	lost := map[string]bool{}
	for _, d := range dry.Snapshots[0].Damaged {
		rel := strings.TrimPrefix(d.Path, "/src/")
		lost[rel] = true
		if !strings.Contains(d.Why, "missing from the store") {
			t.Fatalf("damage %+v does not say its pack is missing", d)
		}
	}
	if !lost["large.bin"] {
		t.Fatalf("dry run does not name /src/large.bin: %+v", dry.Snapshots[0].Damaged)
	}
	if got := listDir(t, filepath.Join(h.repo, "index")); strings.Join(got, ",") != strings.Join(indexBefore, ",") {
		t.Fatal("a dry run changed the index files")
	}
	if r := h.ok("repair"); !strings.Contains(r.stdout, "dry run: nothing was written") || !strings.Contains(r.stdout, "/src/large.bin") {
		t.Fatalf("repair output:\n%s", r.stdout)
	}

	applied := h.repairJSON("--apply")
	repaired := applied.Snapshots[0].Repaired
	if !applied.Applied || repaired == "" {
		t.Fatalf("repair --apply: %+v", applied)
	}
	var snaps []snapshotJSON
	h.okJSON(&snaps, "snapshots", "--tag", "repaired="+orig.SnapshotID[:8])
	if len(snaps) != 1 || snaps[0].ID != repaired {
		t.Fatalf("repaired snapshot by its tag: %+v", snaps)
	}
	out := filepath.Join(h.dir, "out")
	h.ok("restore", repaired, "--target", out, "--verify")
	compareWithout(t, src, filepath.Join(out, "src"), lost)

	if again := h.repairJSON("--apply"); len(again.Snapshots) != 1 || !again.Snapshots[0].AlreadyRepaired {
		t.Fatalf("second repair: %+v", again)
	}
	h.fails(1, "check found", "check") // the original still needs the lost data
	h.ok("forget", orig.SnapshotID)
	h.ok("check", "--read-data")

	var next backupJSON
	h.okJSON(&next, "backup", src)
	if next.BytesAdded < 3<<20 {
		t.Fatalf("the backup after the repair added %d bytes; the lost data should be stored again", next.BytesAdded)
	}
	out2 := filepath.Join(h.dir, "out2")
	h.ok("restore", next.SnapshotID, "--target", out2)
	testtree.Compare(t, src, filepath.Join(out2, "src"))
}

// compareWithout checks a restore against its source with the lost files
// (relative paths) absent.
func compareWithout(t *testing.T, src, got string, lost map[string]bool) {
	t.Helper()
	w, g := testtree.Scan(t, src), testtree.Scan(t, got)
	for name, we := range w {
		ge, ok := g[name]
		switch {
		case lost[name] && ok:
			t.Errorf("%s was lost, yet the repaired snapshot restores it", name)
		case lost[name]:
		case !ok:
			t.Errorf("%s: missing from the repaired snapshot", name)
		case we.Mode != ge.Mode || (we.Mode.IsRegular() && we.Size != ge.Size):
			t.Errorf("%s: mode %v size %d, want %v %d", name, ge.Mode, ge.Size, we.Mode, we.Size)
		case we.Mode.IsRegular():
			a, _ := os.ReadFile(filepath.Join(src, name))
			b, _ := os.ReadFile(filepath.Join(got, name))
			if !bytes.Equal(a, b) {
				t.Errorf("%s: content differs", name)
			}
		}
	}
}

// --salvage keeps a damaged file at its size, the readable chunks intact
// and zeros where the corrupt one was; --read-data finds the corrupt blob.
// A damaged index file is replaced.
func TestRepairSalvage(t *testing.T) {
	h := newHarness(t)
	h.ok("init", "--compression", "off")
	src := filepath.Join(h.dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 12, SmallFiles: 2, LargeSize: 6 << 20})
	var orig backupJSON
	h.okJSON(&orig, "backup", src)
	corruptFile(t, packsBySize(t, h.repo)[0])
	idx := listDir(t, filepath.Join(h.repo, "index"))[0]
	corruptFile(t, filepath.Join(h.repo, "index", idx))

	if dry := h.repairJSON("--salvage"); len(dry.Snapshots) != 0 || len(dry.IndexFilesDamaged) != 1 {
		t.Fatalf("without --read-data a corrupt chunk goes unseen, the damaged index file not: %+v", dry)
	}
	rep := h.repairJSON("--read-data", "--salvage", "--apply")
	if len(rep.BlobsCorrupt) != 1 || len(rep.Snapshots) != 1 || len(rep.Snapshots[0].Damaged) != 1 || !rep.Snapshots[0].Damaged[0].Salvaged {
		t.Fatalf("salvage: %+v", rep)
	}
	for _, name := range listDir(t, filepath.Join(h.repo, "index")) {
		if name == idx {
			t.Fatal("the damaged index file is still there")
		}
	}
	rel := strings.TrimPrefix(rep.Snapshots[0].Damaged[0].Path, "/src/")
	out := filepath.Join(h.dir, "out")
	h.ok("restore", rep.Snapshots[0].Repaired, "--target", out, "--verify")
	testtree.CompareDamaged(t, src, filepath.Join(out, "src"), map[string]bool{rel: true})
	want, _ := os.ReadFile(filepath.Join(src, rel))
	got, _ := os.ReadFile(filepath.Join(out, "src", rel))
	zeroed := 0
	for i := range want {
		if got[i] != want[i] {
			if got[i] != 0 {
				t.Fatalf("%s byte %d is neither the original nor zero", rel, i)
			}
			zeroed++
		}
	}
	if zeroed == 0 || zeroed > 8<<20 {
		t.Fatalf("%s: %d bytes zeroed; want one chunk's worth", rel, zeroed)
	}
	h.ok("forget", orig.SnapshotID)
	// The corrupt blob's bytes are still in their pack, unindexed: a note,
	// not damage, as nothing can need them.
	if r := h.ok("check", "--read-data"); !strings.Contains(r.stdout, "corrupt and not indexed") {
		t.Fatalf("check after the repair:\n%s", r.stdout)
	}
}
