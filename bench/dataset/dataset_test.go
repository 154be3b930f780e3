package dataset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// digestDir hashes every file's path and content, in walk order.
func digestDir(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00"))
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func smallImage(root string) *Image {
	return &Image{Root: root, Name: "vm", Seed: 7, Size: 40 * BlockSize,
		ZeroFrac: 0.3, TextFrac: 0.2, ChangeFrac: 0.05}
}

func smallTree(root string) *Tree {
	return &Tree{Root: root, Name: "files", Seed: 7, Files: 300, MinSize: 1 << 10,
		MaxSize: 64 << 10, ChangeFrac: 0.05}
}

// prepared is what the tests need of both shapes.
type prepared interface {
	Prepare(context.Context) error
	Mutate() error
	Revert() error
	Dir() string
}

// smallSource writes a tree with a symlink for Copy to copy.
func smallSource(t *testing.T) string {
	t.Helper()
	tr := smallTree(t.TempDir())
	if err := tr.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("elsewhere", filepath.Join(tr.Dir(), "link")); err != nil {
		t.Fatal(err)
	}
	return tr.Dir()
}

func smallCopy(root, source string) *Copy {
	return &Copy{Root: root, Name: "source", Source: source, Seed: 7, ChangeFrac: 0.05}
}

func TestReproducibleAndReversible(t *testing.T) {
	source := smallSource(t)
	cases := []struct {
		name string
		make func(root string) prepared
	}{
		{"image", func(r string) prepared { return smallImage(r) }},
		{"tree", func(r string) prepared { return smallTree(r) }},
		{"copy", func(r string) prepared { return smallCopy(r, source) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := c.make(t.TempDir()), c.make(t.TempDir())
			for _, d := range []prepared{a, b} {
				if err := d.Prepare(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			base := digestDir(t, a.Dir())
			if got := digestDir(t, b.Dir()); got != base {
				t.Fatalf("same seed, different bytes: %s vs %s", got, base)
			}
			if err := a.Mutate(); err != nil {
				t.Fatal(err)
			}
			if digestDir(t, a.Dir()) == base {
				t.Fatal("Mutate changed nothing")
			}
			// An interrupted run leaves the variant applied; Prepare
			// must bring the base back.
			if err := c.make(filepath.Dir(a.Dir())).Prepare(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := digestDir(t, a.Dir()); got != base {
				t.Fatal("Prepare after Mutate did not restore the base dataset")
			}
		})
	}
}

func TestImageShares(t *testing.T) {
	im := smallImage(t.TempDir())
	if err := im.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(im.Path())
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, BlockSize)
	zeros := 0
	for off := 0; off < len(data); off += BlockSize {
		if bytes.Equal(data[off:off+BlockSize], zero) {
			zeros++
		}
	}
	if want := 12; zeros != want { // 30% of 40 blocks
		t.Fatalf("zero blocks: got %d, want %d", zeros, want)
	}
}

func TestTreeVariantCounts(t *testing.T) {
	tr := smallTree(t.TempDir())
	mod, add, del := tr.Changes()
	if mod != 15 || add != 2 || del != 2 {
		t.Fatalf("changes: got %d modified, %d added, %d deleted", mod, add, del)
	}
	if tr.Dirs() < 10 {
		t.Fatalf("only %d directories", tr.Dirs())
	}
}

// dirBytes sums the sizes of the regular files below dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		n += info.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCopyIsTheSourceAndItsVariantIsCounted(t *testing.T) {
	source := smallSource(t)
	c := smallCopy(t.TempDir(), source)
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if digestDir(t, c.Dir()) != digestDir(t, source) {
		t.Fatal("the copy differs from its source")
	}
	if _, err := os.Stat(filepath.Join(c.Root, "go.mod")); err != nil {
		t.Fatalf("no go.mod fences the copy off from the enclosing module: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(c.Dir(), "link")); err != nil || target != "elsewhere" {
		t.Fatalf("symlink not copied: %q, %v", target, err)
	}
	if c.Files() != 300 || c.Bytes() != dirBytes(t, source) {
		t.Fatalf("copy of %d files, %d bytes; source has 300 files, %d bytes", c.Files(), c.Bytes(), dirBytes(t, source))
	}
	if mod, add, del := c.Changes(); mod != 15 || add != 2 || del != 2 {
		t.Fatalf("changes: got %d modified, %d added, %d deleted", mod, add, del)
	}
	if err := c.Mutate(); err != nil {
		t.Fatal(err)
	}
	if got := dirBytes(t, c.Dir()); got != c.MutatedBytes() {
		t.Fatalf("mutated tree holds %d bytes, MutatedBytes says %d", got, c.MutatedBytes())
	}
}

func TestCopyOfAMissingSourceFails(t *testing.T) {
	c := smallCopy(t.TempDir(), filepath.Join(t.TempDir(), "absent"))
	if err := c.Prepare(context.Background()); err == nil {
		t.Fatal("Prepare of a missing source succeeded")
	}
}
