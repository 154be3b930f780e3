package hostpath_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairnbackup/cairn/csi/hostpath"
	"github.com/cairnbackup/cairn/csi/hostpath/hostpathtest"
)

// setUpEverything creates, fills, snapshots and publishes one filesystem
// and one block volume (read-write and read-only), and returns the
// publications.
func setUpEverything(t *testing.T, c *client, root string) []publication {
	t.Helper()
	fsVol := c.createVolume("fs", mountCap(rw), 1<<20, nil)
	blkVol := c.createVolume("blk", blockCap(rw), 4<<20, nil)
	fsPub := c.publish("fs", fsVol.GetVolumeId(), mountCap(rw), false)
	if err := os.WriteFile(filepath.Join(fsPub.target, "f"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	blkPub := c.publish("blk", blkVol.GetVolumeId(), blockCap(rw), false)
	writeAt(t, blkPub.target, 1<<20, []byte("block kept"))
	c.snapshot("fs-snap", fsVol.GetVolumeId())
	c.snapshot("blk-snap", blkVol.GetVolumeId())
	roTarget := filepath.Join(c.work, "blk-ro")
	if _, err := c.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{
		VolumeId: blkPub.volID, StagingTargetPath: blkPub.staging, TargetPath: roTarget, VolumeCapability: blockCap(ro), Readonly: true,
	}); err != nil {
		t.Fatal(err)
	}
	return []publication{fsPub, blkPub, {volID: blkPub.volID, staging: blkPub.staging, target: roTarget}}
}

// tearDownEverything checks that a (restarted) driver still knows
// everything, then unpublishes, unstages and deletes it all and checks
// that nothing is left: no mount, no loop device, no data.
func tearDownEverything(t *testing.T, c *client, root string, pubs []publication) {
	t.Helper()
	vols, err := c.ctrl.ListVolumes(ctx(t), &csi.ListVolumesRequest{})
	if err != nil || len(vols.GetEntries()) != 2 {
		t.Fatalf("after restart: %d volumes (%v), want 2", len(vols.GetEntries()), err)
	}
	snaps, err := c.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{})
	if err != nil || len(snaps.GetEntries()) != 2 {
		t.Fatalf("after restart: %d snapshots (%v), want 2", len(snaps.GetEntries()), err)
	}
	for _, s := range snaps.GetEntries() {
		if got := c.allocatedIfBlock(s.GetSnapshot()); got != "" && got != span(1<<20, blk) {
			t.Fatalf("after restart: snapshot %s allocated %s", s.GetSnapshot().GetSnapshotId(), got)
		}
	}
	if b, err := os.ReadFile(filepath.Join(pubs[0].target, "f")); err != nil || string(b) != "kept" {
		t.Fatalf("filesystem publication lost across the restart: %q, %v", b, err)
	}
	if got := readAt(t, pubs[2].target, 1<<20, 10); !bytes.Equal(got, []byte("block kept")) {
		t.Fatalf("read-only block publication reads %q after the restart", got)
	}
	inv, err := hostpath.ReadInventory(root)
	if err != nil || len(inv.Volumes) != 2 || len(inv.Snapshots) != 2 || len(inv.Staged) != 2 || len(inv.Published) != 3 {
		t.Fatalf("inventory before teardown: %+v, %v", inv, err)
	}
	images := imagesUnder(t, root)
	unpublishTarget(t, c, pubs[2].volID, pubs[2].target)
	c.unpublish(pubs[1])
	c.unpublish(pubs[0])
	for _, s := range snaps.GetEntries() {
		if _, err := c.ctrl.DeleteSnapshot(ctx(t), &csi.DeleteSnapshotRequest{SnapshotId: s.GetSnapshot().GetSnapshotId()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range vols.GetEntries() {
		c.deleteVolume(v.GetVolume().GetVolumeId())
	}
	for _, img := range images {
		if devs := loopsBackedBy(t, img); len(devs) > 0 {
			t.Errorf("loop devices %v of %s outlived the teardown", devs, img)
		}
	}
	for _, p := range pubs {
		if mounted(t, p.target) || mounted(t, p.staging) {
			t.Errorf("%s or %s is still mounted", p.target, p.staging)
		}
	}
	if inv, err := hostpath.ReadInventory(root); err != nil || !inv.Empty() {
		t.Errorf("inventory after teardown: %+v, %v", inv, err)
	}
	for _, dir := range []string{"volumes", "snapshots", "tmp"} {
		if entries, _ := os.ReadDir(filepath.Join(root, dir)); len(entries) != 0 {
			t.Errorf("%s/ still holds %d entries", dir, len(entries))
		}
	}
}

// allocatedIfBlock returns the allocated ranges of a block snapshot, ""
// for a filesystem one.
func (c *client) allocatedIfBlock(s *csi.Snapshot) string {
	st, err := c.meta.GetMetadataAllocated(ctx(c.t), &csi.GetMetadataAllocatedRequest{SnapshotId: s.GetSnapshotId()})
	if err != nil {
		c.t.Fatal(err)
	}
	r, err := st.Recv()
	if status.Code(err) == codes.InvalidArgument {
		return ""
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return ranges(r.GetBlockMetadata())
}

func imagesUnder(t *testing.T, root string) []string {
	var out []string
	for _, dir := range []string{"volumes", "snapshots"} {
		m, _ := filepath.Glob(filepath.Join(root, dir, "*.img"))
		out = append(out, m...)
	}
	if len(out) == 0 {
		t.Fatal("no images under the root")
	}
	return out
}

func mounted(t *testing.T, path string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

func TestStateSurvivesRestart(t *testing.T) {
	d, c := startDriver(t, hostpath.Config{})
	pubs := setUpEverything(t, c, d.Root)
	d.Restart(t)
	tearDownEverything(t, newClient(t, d.Conn(t), d.Work), d.Root, pubs)
}

// TestKilledProcessRestarts kills the real binary with SIGKILL while
// volumes are published and restarts it over the same root.
func TestKilledProcessRestarts(t *testing.T) {
	p := hostpathtest.StartProcess(t, hostpath.Config{})
	c := newClient(t, p.Conn(t), p.Work)
	pubs := setUpEverything(t, c, p.Root)
	p.Kill(t)
	p.Restart(t)
	tearDownEverything(t, newClient(t, p.Conn(t), p.Work), p.Root, pubs)
}

// TestStartUpRepairs leaves what a crash would (temporary data, data no
// record names, a loop device no record owns) and checks that a driver
// started over the root removes all of it and keeps the rest.
func TestStartUpRepairs(t *testing.T) {
	d, c := startDriver(t, hostpath.Config{})
	keep := c.createVolume("keep", blockCap(rw), 1<<20, nil)
	d.RestartWith(t, func(*hostpath.Config) {
		junk := []string{"tmp/vol-0123456789abcdef.img", "volumes/vol-00000000000000aa", "snapshots/snap-00000000000000bb.img"}
		for _, j := range junk {
			if err := os.WriteFile(filepath.Join(d.Root, j), []byte("junk"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if d.UsesLoopDevices() {
			if _, err := hostpath.AttachLoop(filepath.Join(d.Root, junk[1]), false); err != nil {
				t.Fatalf("leak a loop device: %v", err)
			}
		}
	})
	for _, j := range []string{"tmp/vol-0123456789abcdef.img", "volumes/vol-00000000000000aa", "snapshots/snap-00000000000000bb.img"} {
		if _, err := os.Stat(filepath.Join(d.Root, j)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived start-up: %v", j, err)
		}
	}
	if devs := loopsBackedBy(t, filepath.Join(d.Root, "volumes/vol-00000000000000aa")); len(devs) > 0 {
		t.Errorf("leaked loop devices %v survived start-up", devs)
	}
	if _, err := os.Stat(filepath.Join(d.Root, "volumes", keep.GetVolumeId()+".img")); err != nil {
		t.Errorf("a recorded volume was removed: %v", err)
	}
	if _, err := hostpath.New(hostpath.Config{Root: d.Root, NodeID: "other"}); err == nil {
		t.Error("a second driver opened a root in use")
	}
}
