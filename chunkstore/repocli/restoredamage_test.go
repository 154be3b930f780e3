package repocli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

// D9: a restore that meets a corrupt blob keeps going. Every other file is
// restored whole with its metadata, the damaged file is there at its size
// with its metadata, and it is named with its blob on stderr and in --json,
// with exit code 4. --verify reads the rest back.
func TestRestoreFinishesPastDamage(t *testing.T) {
	h := newHarness(t)
	h.ok("init", "--compression", "off")
	src := filepath.Join(h.dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 8, SmallFiles: 20, LargeSize: 2 << 20})
	var snap backupJSON
	h.okJSON(&snap, "backup", src)
	pack := packsBySize(t, h.repo)[0] // the data pack: the large file and most small ones
	corruptFile(t, pack)

	out := filepath.Join(h.dir, "out")
	r := h.run("restore", snap.SnapshotID, "--target", out, "--json", "--verify")
	var res restoreJSON
	if err := jsonDecode(r.stdout, &res); err != nil {
		t.Fatalf("restore: exit %d, %v\nstderr:\n%s", r.code, err, r.stderr)
	}
	if r.code != ExitDamaged || len(res.Damaged) != 1 || res.Damaged[0].Blob == "" || res.Damaged[0].Offset < 0 {
		t.Fatalf("restore past one corrupt blob: exit %d, damaged %+v\nstderr:\n%s", r.code, res.Damaged, r.stderr)
	}
	d := res.Damaged[0]
	if !strings.Contains(r.stderr, "cairn: damaged: "+d.Path+": chunk "+d.Blob) || !strings.Contains(r.stderr, "1 file or directory is damaged") {
		t.Fatalf("stderr does not name the damaged file and its blob:\n%s", r.stderr)
	}
	if res.Verified != res.Files-1 {
		t.Fatalf("--verify checked %d of the %d undamaged files", res.Verified, res.Files-1)
	}
	rel, err := filepath.Rel(out, d.Path)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ = filepath.Rel("src", rel)
	testtree.CompareDamaged(t, src, filepath.Join(out, "src"), map[string]bool{rel: true})

	// A damaged file's chunk is a hole: zeros where its data was.
	got, err := os.ReadFile(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(src, rel))
	if len(got) != len(want) || string(got) == string(want) {
		t.Fatalf("damaged file: %d bytes (want %d), identical to the source: %v", len(got), len(want), string(got) == string(want))
	}
}

// "Restore into an existing target overwrites without warning": a
// directory that holds files is refused unless --overwrite.
func TestRestoreRefusesNonEmptyTarget(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	src := filepath.Join(h.dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 9, SmallFiles: 3})
	h.ok("backup", src)
	out := filepath.Join(h.dir, "out")
	if err := os.MkdirAll(filepath.Join(out, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.ok("restore", "latest", "--target", out) // a fresh file system's lost+found is fine
	h.fails(1, "is not empty (it holds src)", "restore", "latest", "--target", out)
	h.ok("restore", "latest", "--target", out, "--overwrite")
	testtree.Compare(t, src, filepath.Join(out, "src"))
}
