package repocli

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

// packsBySize returns the repository's pack files, largest first.
func packsBySize(t *testing.T, repoDir string) []string {
	t.Helper()
	var packs []string
	sizes := map[string]int64{}
	err := filepath.WalkDir(filepath.Join(repoDir, "data"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		packs = append(packs, p)
		sizes[p] = fi.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(packs, func(i, j int) bool { return sizes[packs[i]] > sizes[packs[j]] })
	return packs
}

// D8: a backup never references data that is not there. After a pack is
// lost, the next backup of the same data stores it again instead of
// deduplicating against the lost copy, and both its snapshot and the
// older one restore, reading the new copy.
func TestLostPackIsStoredAgain(t *testing.T) {
	h := newHarness(t)
	h.ok("init", "--compression", "off")
	src := filepath.Join(h.dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 5, SmallFiles: 4, LargeSize: 3 << 20})
	var first backupJSON
	h.okJSON(&first, "backup", src)
	lost := packsBySize(t, h.repo)[0]
	if err := os.Remove(lost); err != nil {
		t.Fatal(err)
	}

	r := h.run("backup", "--json", src)
	var second backupJSON
	if r.code != 0 || jsonDecode(r.stdout, &second) != nil {
		t.Fatalf("backup after a lost pack: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if second.BytesAdded < 3<<20 || !strings.Contains(r.stderr, "missing from the store") {
		t.Fatalf("backup after losing pack %s added %d bytes (want the large file again); stderr %q", filepath.Base(lost), second.BytesAdded, r.stderr)
	}
	for _, id := range []string{second.SnapshotID, first.SnapshotID} {
		out := filepath.Join(h.dir, "out-"+id[:8])
		h.ok("restore", id, "--target", out)
		testtree.Compare(t, src, filepath.Join(out, "src"))
	}
	// The index still names the lost pack until it is rebuilt.
	if r := h.fails(1, "check found", "check"); !strings.Contains(r.stdout, filepath.Base(lost)) {
		t.Fatalf("check does not name the lost pack: %s", r.stdout)
	}
}

// checkJSONOut is what check --json prints.
type checkJSONOut struct {
	OK      bool `json:"ok"`
	Damaged []struct {
		Snapshot string `json:"snapshot"`
		Path     string `json:"path"`
		Blob     string `json:"blob"`
		Why      string `json:"why"`
	} `json:"damaged"`
}

// "check reports a lost pack without saying which snapshots and files it
// affects": every snapshot that needs a lost or corrupt blob is named with
// the path that needs it, also when snapshots share the damaged data.
func TestCheckNamesAffectedSnapshotsAndPaths(t *testing.T) {
	h := newHarness(t)
	h.ok("init", "--compression", "off")
	src := filepath.Join(h.dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 10, SmallFiles: 2, LargeSize: 3 << 20})
	var one, two backupJSON
	h.okJSON(&one, "backup", src)
	h.writeFile(filepath.Join(src, "new.txt"), "new")
	h.okJSON(&two, "backup", "--force", src)

	corruptFile(t, packsBySize(t, h.repo)[0])
	var rep checkJSONOut
	r := h.run("check", "--json")
	if r.code != 0 || jsonDecode(r.stdout, &rep) != nil || len(rep.Damaged) != 0 {
		t.Fatalf("check without --read-data sees no damage in a pack's bytes: exit %d: %s", r.code, r.stdout)
	}
	r = h.run("check", "--read-data", "--json")
	if r.code != 1 || jsonDecode(r.stdout, &rep) != nil {
		t.Fatalf("check --read-data: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	named := map[string]string{}
	for _, d := range rep.Damaged {
		named[d.Snapshot] = d.Path
		if !strings.Contains(d.Why, "corrupt in pack") {
			t.Errorf("damage %+v does not say the blob is corrupt", d)
		}
	}
	if len(named) != 2 || named[one.SnapshotID] != "/src/large.bin" || named[two.SnapshotID] != "/src/large.bin" {
		t.Fatalf("check --read-data named %v, want /src/large.bin in both snapshots", rep.Damaged)
	}
	text := h.fails(1, "check found", "check", "--read-data")
	if !strings.Contains(text.stdout, "snapshot "+one.SnapshotID[:8]+": /src/large.bin cannot be restored whole") {
		t.Fatalf("check output does not name the snapshot and the path:\n%s", text.stdout)
	}

	// A lost pack is named as such, without reading any data.
	if err := os.Remove(packsBySize(t, h.repo)[0]); err != nil {
		t.Fatal(err)
	}
	r = h.run("check", "--json")
	if r.code != 1 || jsonDecode(r.stdout, &rep) != nil {
		t.Fatalf("check after losing the pack: exit %d: %s", r.code, r.stdout)
	}
	large := map[string]bool{}
	for _, d := range rep.Damaged {
		if !strings.Contains(d.Why, "missing from the store") {
			t.Fatalf("damage %+v: want its pack named missing", d)
		}
		if d.Path == "/src/large.bin" {
			large[d.Snapshot] = true
		}
	}
	if !large[one.SnapshotID] || !large[two.SnapshotID] {
		t.Fatalf("check after losing the pack names %+v; want /src/large.bin in both snapshots", rep.Damaged)
	}
}
