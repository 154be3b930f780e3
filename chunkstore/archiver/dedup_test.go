package archiver_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
)

func TestDedupUnchangedAndOnePercent(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	const size = 96 << 20
	img := testtree.Random(42, size)
	if err := os.WriteFile(filepath.Join(src, "image.bin"), img, 0o600); err != nil {
		t.Fatal(err)
	}
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	first := backup(t, r, []string{src}, archiver.Options{})
	if got := first.Snapshot.Stats.BytesAdded; got < size {
		t.Fatalf("first backup added %d bytes, want at least %d", got, size)
	}

	// Unchanged data, parent given: nothing is read, almost nothing added.
	id := first.ID
	second := backup(t, r, []string{src}, archiver.Options{Parent: first.Snapshot, ParentID: &id})
	if got := second.Snapshot.Stats.BytesAdded; got > 64<<10 {
		t.Fatalf("unchanged backup added %d bytes, want only tree metadata", got)
	}
	if got := second.Snapshot.Stats.BytesRead; got != 0 {
		t.Fatalf("unchanged backup read %d bytes, want 0 (metadata unchanged)", got)
	}

	// No parent: everything is read again but dedups by chunk.
	third := backup(t, r, []string{src}, archiver.Options{})
	if got := third.Snapshot.Stats.BytesAdded; got > 64<<10 {
		t.Fatalf("re-read backup added %d bytes, want only tree metadata", got)
	}

	// Rewrite 1% of the 1 MiB blocks in place: about 1% new (each change
	// costs up to two neighbouring chunks, so allow 5x).
	for i := 0; i < size>>20; i += 100 {
		copy(img[i<<20:], testtree.Random(uint64(1000+i), 1<<20))
	}
	if err := os.WriteFile(filepath.Join(src, "image.bin"), img, 0o600); err != nil {
		t.Fatal(err)
	}
	id3 := third.ID
	fourth := backup(t, r, []string{src}, archiver.Options{Parent: third.Snapshot, ParentID: &id3})
	added := fourth.Snapshot.Stats.BytesAdded
	if added < size/100 || added > 5*size/100 {
		t.Fatalf("1%% change added %d bytes of %d (%.1f%%), want about 1%%", added, size, 100*float64(added)/size)
	}
	dst := t.TempDir()
	restore(t, r, fourth.Snapshot, restorer.Options{Target: dst})
	got, err := os.ReadFile(filepath.Join(dst, "src", "image.bin"))
	if err != nil || string(got) != string(img) {
		t.Fatalf("restore after incremental differs (err %v)", err)
	}
	mustCheck(t, r, false)
}

func TestSmallFilesIncremental(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	testtree.Build(t, src, testtree.Spec{Seed: 5, SmallFiles: 400})
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	first := backup(t, r, []string{src}, archiver.Options{})
	// Modify 1% of the files, add two, delete one.
	for i := 0; i < 4; i++ {
		p := filepath.Join(src, []string{"", "a", "a/b", "a/b/c"}[i%4], "f000"+string(rune('0'+i))+".txt")
		if err := os.WriteFile(p, testtree.Text(uint64(900+i), 3000), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"new1", "new2"} {
		if err := os.WriteFile(filepath.Join(src, n), testtree.Text(77, 2000), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(src, "a", "f0005.txt")); err != nil {
		t.Fatal(err)
	}
	id := first.ID
	second := backup(t, r, []string{src}, archiver.Options{Parent: first.Snapshot, ParentID: &id})
	if read := second.Snapshot.Stats.BytesRead; read > 5*3000+2*2000+4096 {
		t.Fatalf("incremental read %d bytes, want only the changed and new files", read)
	}
	dst := t.TempDir()
	restore(t, r, second.Snapshot, restorer.Options{Target: dst})
	testtree.Compare(t, src, filepath.Join(dst, "src"))
}
