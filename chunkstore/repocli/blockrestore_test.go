package repocli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

// D2: a block snapshot restores onto an existing file or block device given
// as --target, as the help says, instead of failing to make a directory
// there. The image replaces the file's bytes; on a device, the image's
// holes are zeroed, since a device keeps what it held.
func TestBlockRestoreOntoFileAndDevice(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	img := filepath.Join(h.dir, "disk.img")
	data := make([]byte, 6<<20)
	copy(data[1<<20:], testtree.Random(3, 1<<20))
	copy(data[5<<20:], testtree.Random(4, 300<<10))
	if err := os.WriteFile(img, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var snap backupJSON
	h.okJSON(&snap, "backup", "--block", img)

	file := filepath.Join(h.dir, "restored.img")
	h.writeFile(file, strings.Repeat("old bytes ", 1<<20)) // larger than the image
	h.ok("restore", snap.SnapshotID, "--target", file, "--verify")
	if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("image restored onto a file: %d bytes, err %v; want the %d image bytes", len(got), err, len(data))
	}

	if os.Geteuid() != 0 {
		t.Logf("not root: the block-device half of this test needs losetup")
		return
	}
	backing := filepath.Join(h.dir, "backing")
	h.writeFile(backing, string(bytes.Repeat([]byte{0xff}, 8<<20)))
	out, err := exec.Command("losetup", "--find", "--show", backing).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	h.ok("restore", snap.SnapshotID, "--target", dev, "--verify")
	got := make([]byte, len(data))
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("image restored onto %s differs (err %v)", dev, err)
	}
	small := filepath.Join(h.dir, "small")
	h.writeFile(small, string(make([]byte, 1<<20)))
	out, err = exec.Command("losetup", "--find", "--show", small).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v: %s", err, out)
	}
	smallDev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", smallDev).Run() })
	h.fails(1, "at least as large", "restore", snap.SnapshotID, "--target", smallDev)
}
