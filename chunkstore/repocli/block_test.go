package repocli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

func TestBlockBackupAndParent(t *testing.T) {
	h := newHarness(t)
	h.ok("init", "--compression", "off")
	img := filepath.Join(h.dir, "disk.img")
	data := make([]byte, 6<<20) // zeros, with data in two places
	copy(data[1<<20:], testtree.Random(7, 1<<20))
	copy(data[5<<20:], testtree.Random(8, 512<<10))
	if err := os.WriteFile(img, data, 0o600); err != nil {
		t.Fatal(err)
	}

	var first backupJSON
	h.okJSON(&first, "backup", "--block", img)
	if first.Kind != "block" || first.BytesAdded > 2<<20 {
		t.Fatalf("block backup stored the zero ranges or has the wrong kind: %+v", first)
	}
	var second backupJSON
	h.okJSON(&second, "backup", "--block", "--parent", first.SnapshotID[:6], img)
	if second.Parent != first.SnapshotID || second.BytesAdded != 0 {
		t.Fatalf("second block backup: %+v", second)
	}

	out := filepath.Join(h.dir, "out")
	h.ok("restore", second.SnapshotID, "--target", out)
	got, err := os.ReadFile(filepath.Join(out, "disk.img"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("restored image differs (err %v, %d bytes)", err, len(got))
	}
	h.fails(1, "want key=value", "backup", "--tag", "=v", img)
	// D1: a directory given to --block by mistake is refused up front.
	h.fails(1, "it is a directory; --block takes one block device or image file", "backup", "--block", h.dir)
	h.fails(1, "if any flags in the group [parent force] are set none of the others can be", "backup", "--parent", "latest", "--force", img)
}
