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
