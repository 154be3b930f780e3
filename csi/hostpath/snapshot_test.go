package hostpath_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"

	"github.com/cairnbackup/cairn/csi/hostpath"
)

// blockLayout is what TestBlockSnapshotRestore writes: data at these
// offsets, holes everywhere else.
var blockLayout = []struct {
	off  int64
	size int
}{
	{0, 64 << 10},
	{3 << 20, 4 << 10},
	{10<<20 + 100, 7000},
}

func TestBlockSnapshotRestore(t *testing.T) {
	d, c := startDriver(t, hostpath.Config{})
	vol := c.createVolume("src", blockCap(rw), 16<<20, nil)
	src := filepath.Join(d.Root, "volumes", vol.GetVolumeId()+".img")
	pub := c.publish("src", vol.GetVolumeId(), blockCap(rw), false)
	for i, r := range blockLayout {
		writeAt(t, pub.target, r.off, bytes.Repeat([]byte{byte('a' + i)}, r.size))
	}
	c.unpublish(pub)
	snap := c.snapshot("snap", vol.GetVolumeId())
	if snap.GetSizeBytes() != 16<<20 || !snap.GetReadyToUse() {
		t.Fatalf("snapshot %v: want 16 MiB, ready", snap)
	}
	snapImage := filepath.Join(d.Root, "snapshots", snap.GetSnapshotId()+".img")
	sameBytes(t, src, snapImage, 16<<20)
	wantHole(t, snapImage, 4<<20, 10<<20)

	// A restored volume may be larger than its snapshot; the rest is zeros.
	restored := c.createVolume("restored", blockCap(rw), 32<<20, fromSnapshot(snap.GetSnapshotId()))
	if restored.GetCapacityBytes() != 32<<20 || restored.GetContentSource().GetSnapshot().GetSnapshotId() != snap.GetSnapshotId() {
		t.Fatalf("restored volume %v", restored)
	}
	img := filepath.Join(d.Root, "volumes", restored.GetVolumeId()+".img")
	sameBytes(t, src, img, 16<<20)
	wantHole(t, img, 4<<20, 10<<20)
	wantHole(t, img, 11<<20, 32<<20)
	pub = c.publish("restored", restored.GetVolumeId(), blockCap(rw), false)
	for i, r := range blockLayout {
		if got := readAt(t, pub.target, r.off, r.size); !bytes.Equal(got, bytes.Repeat([]byte{byte('a' + i)}, r.size)) {
			t.Fatalf("restored volume differs at %d", r.off)
		}
	}
	c.unpublish(pub)

	// The snapshot is independent of its source.
	c.deleteVolume(vol.GetVolumeId())
	clone := c.createVolume("again", blockCap(rw), 0, fromSnapshot(snap.GetSnapshotId()))
	sameBytes(t, snapImage, filepath.Join(d.Root, "volumes", clone.GetVolumeId()+".img"), 16<<20)

	// And so is a clone of a volume.
	twin := c.createVolume("twin", blockCap(rw), 0, &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Volume{
		Volume: &csi.VolumeContentSource_VolumeSource{VolumeId: clone.GetVolumeId()}}})
	sameBytes(t, snapImage, filepath.Join(d.Root, "volumes", twin.GetVolumeId()+".img"), 16<<20)
}

// TestThinCloneOfSnapshot: a volume created from a snapshot for readers
// only uses the snapshot's data in place, stays readable after the
// snapshot is deleted, and takes the data with it when it goes.
func TestThinCloneOfSnapshot(t *testing.T) {
	d, c := startDriver(t, hostpath.Config{Capacity: 20 << 20})
	vol := c.createVolume("src", blockCap(rw), 16<<20, nil)
	writeAt(t, filepath.Join(d.Root, "volumes", vol.GetVolumeId()+".img"), 5<<20, []byte("thin"))
	snap := c.snapshot("snap", vol.GetVolumeId())
	// 16 of 20 MiB are taken, so only a clone that copies nothing fits.
	thin := c.createVolume("thin", blockCap(ro), 0, fromSnapshot(snap.GetSnapshotId()))
	if _, err := os.Stat(filepath.Join(d.Root, "volumes", thin.GetVolumeId()+".img")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("thin clone has its own image: %v", err)
	}
	_, err := c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{
		Name: "full", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)}, VolumeContentSource: fromSnapshot(snap.GetSnapshotId()),
	})
	wantCode(t, err, codes.ResourceExhausted, "a full copy beyond --capacity")

	_, err = c.node.NodeStageVolume(ctx(t), &csi.NodeStageVolumeRequest{
		VolumeId: thin.GetVolumeId(), StagingTargetPath: filepath.Join(c.work, "w"), VolumeCapability: blockCap(rw),
	})
	wantCode(t, err, codes.FailedPrecondition, "staging a reader-only volume for a writer")

	if _, err := c.ctrl.DeleteSnapshot(ctx(t), &csi.DeleteSnapshotRequest{SnapshotId: snap.GetSnapshotId()}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ctrl.GetSnapshot(ctx(t), &csi.GetSnapshotRequest{SnapshotId: snap.GetSnapshotId()})
	wantCode(t, err, codes.NotFound, "GetSnapshot of a deleted snapshot")
	list, err := c.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{})
	if err != nil || len(list.GetEntries()) != 0 {
		t.Fatalf("ListSnapshots after delete: %v, %v", list, err)
	}
	pub := c.publish("thin", thin.GetVolumeId(), blockCap(ro), true)
	if got := readAt(t, pub.target, 5<<20, 4); string(got) != "thin" {
		t.Fatalf("thin clone reads %q", got)
	}
	wantWriteRefused(t, pub.target)
	c.unpublish(pub)
	snapImage := filepath.Join(d.Root, "snapshots", snap.GetSnapshotId()+".img")
	if _, err := os.Stat(snapImage); err != nil {
		t.Fatalf("deleted snapshot's data went while a thin clone used it: %v", err)
	}
	c.deleteVolume(thin.GetVolumeId())
	for _, p := range []string{snapImage, filepath.Join(d.Root, "snapshots", snap.GetSnapshotId()+".blockmap")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survives the last thin clone: %v", p, err)
		}
	}
}

func sameBytes(t *testing.T, a, b string, n int64) {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); off < n; off += int64(len(ba)) {
		na, ea := io.ReadFull(io.NewSectionReader(fa, off, int64(len(ba))), ba)
		nb, eb := io.ReadFull(io.NewSectionReader(fb, off, int64(len(bb))), bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) || (ea == nil) != (eb == nil) {
			t.Fatalf("%s and %s differ in the MiB at %d", a, b, off)
		}
	}
}

// wantHole checks that [from, to) of path holds no data extent.
func wantHole(t *testing.T, path string, from, to int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	next, err := unix.Seek(int(f.Fd()), from, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return // nothing but holes to the end
	}
	if err != nil {
		t.Fatalf("SEEK_DATA %s: %v", path, err)
	}
	if next < to {
		t.Fatalf("%s has data at %d, inside the hole %d-%d", path, next, from, to)
	}
}
