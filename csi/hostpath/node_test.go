package hostpath_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"

	"github.com/cairnbackup/cairn/csi/hostpath"
	"github.com/cairnbackup/cairn/csi/hostpath/hostpathtest"
)

// blockModes are the two ways a raw block volume reaches its target. The
// "loop" mode falls back to image files where the machine has no loop
// devices; the test then says so, and still tests the path in use.
var blockModes = []struct {
	name string
	loop hostpath.LoopMode
}{
	{"loop", hostpath.LoopAuto},
	{"image-file", hostpath.LoopOff},
}

func TestBlockPublishReadWriteAndReadOnly(t *testing.T) {
	for _, m := range blockModes {
		t.Run(m.name, func(t *testing.T) {
			d, c := startDriver(t, hostpath.Config{Loop: m.loop})
			if m.loop == hostpath.LoopAuto && !d.UsesLoopDevices() {
				t.Log("loop devices are unavailable here: testing the image-file fallback instead")
			}
			vol := c.createVolume("blk", blockCap(rw), 8<<20, nil)
			image := filepath.Join(d.Root, "volumes", vol.GetVolumeId()+".img")
			pub := c.publish("rw", vol.GetVolumeId(), blockCap(rw), false)
			checkBlockTarget(t, d, pub.target, image)

			pattern := bytes.Repeat([]byte("cairn-block!"), 1000)
			writeAt(t, pub.target, 1<<20+123, pattern)

			// Publishing again with the same arguments is a no-op.
			if _, err := c.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{
				VolumeId: pub.volID, StagingTargetPath: pub.staging, TargetPath: pub.target, VolumeCapability: blockCap(rw),
			}); err != nil {
				t.Fatalf("second NodePublishVolume: %v", err)
			}
			// The same target read-only is a different publication.
			_, err := c.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{
				VolumeId: pub.volID, StagingTargetPath: pub.staging, TargetPath: pub.target, VolumeCapability: blockCap(rw), Readonly: true,
			})
			wantCode(t, err, codes.AlreadyExists, "republish read-only on a read-write target")

			roTarget := filepath.Join(c.work, "ro-target")
			if _, err := c.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{
				VolumeId: pub.volID, StagingTargetPath: pub.staging, TargetPath: roTarget, VolumeCapability: blockCap(rw), Readonly: true,
			}); err != nil {
				t.Fatalf("read-only NodePublishVolume: %v", err)
			}
			checkBlockTarget(t, d, roTarget, image)
			if got := readAt(t, roTarget, 1<<20+123, len(pattern)); !bytes.Equal(got, pattern) {
				t.Fatal("read-only target does not show what the read-write one wrote")
			}
			wantWriteRefused(t, roTarget)

			_, err = c.ctrl.DeleteVolume(ctx(t), &csi.DeleteVolumeRequest{VolumeId: pub.volID})
			wantCode(t, err, codes.FailedPrecondition, "DeleteVolume of a published volume")

			unpublishTarget(t, c, pub.volID, roTarget)
			c.unpublish(pub)
			unpublishTarget(t, c, pub.volID, pub.target) // again: a missing target is fine
			for _, target := range []string{pub.target, roTarget} {
				if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("target %s still exists after unpublish: %v", target, err)
				}
			}
			if devs := loopsBackedBy(t, image); len(devs) > 0 {
				t.Errorf("loop devices %v still attached after unpublish", devs)
			}
			if got := readAt(t, image, 1<<20+123, len(pattern)); !bytes.Equal(got, pattern) {
				t.Fatal("the image does not hold what was written through the target")
			}
			c.deleteVolume(pub.volID)
			if _, err := os.Stat(image); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("image survives DeleteVolume: %v", err)
			}
		})
	}
}

// checkBlockTarget checks what kubelet would find at a raw block target:
// the loop device node backed by the volume's image, or the image itself.
func checkBlockTarget(t *testing.T, d *hostpathtest.Driver, target, image string) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		t.Fatalf("stat target: %v", err)
	}
	if !d.UsesLoopDevices() {
		var img unix.Stat_t
		if err := unix.Stat(image, &img); err != nil {
			t.Fatal(err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Ino != img.Ino {
			t.Fatalf("target %s is not the bind-mounted image %s", target, image)
		}
		return
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		t.Fatalf("target %s is not a block device (mode %o)", target, st.Mode)
	}
	dev := unix.Major(st.Rdev)
	if dev != 7 {
		t.Fatalf("target %s is block device major %d, not a loop device", target, dev)
	}
	backing, err := os.ReadFile(filepath.Join("/sys/dev/block", fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)), "loop", "backing_file"))
	if err != nil || strings.TrimSpace(string(backing)) != image {
		t.Fatalf("target's loop device is backed by %q (%v), want %s", backing, err, image)
	}
}

// loopsBackedBy lists the loop devices attached to image.
func loopsBackedBy(t *testing.T, image string) []string {
	t.Helper()
	entries, err := os.ReadDir("/sys/block")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/sys/block", e.Name(), "loop", "backing_file"))
		if err == nil && strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)") == image {
			out = append(out, e.Name())
		}
	}
	return out
}

func writeAt(t *testing.T, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open %s for writing: %v", path, err)
	}
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("fsync %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func readAt(t *testing.T, path string, off int64, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return buf
}

// wantWriteRefused checks that writing to path fails: at open (a
// read-only mount) or at the write (a read-only loop device).
func wantWriteRefused(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer f.Close()
	_, err = f.WriteAt([]byte("must not land"), 0)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		t.Fatalf("writing to read-only publication %s succeeded", path)
	}
}

func unpublishTarget(t *testing.T, c *client, volID, target string) {
	t.Helper()
	if _, err := c.node.NodeUnpublishVolume(ctx(t), &csi.NodeUnpublishVolumeRequest{VolumeId: volID, TargetPath: target}); err != nil {
		t.Fatalf("NodeUnpublishVolume %s: %v", target, err)
	}
}

func TestFilesystemPublishReadWriteAndReadOnly(t *testing.T) {
	_, c := startDriver(t, hostpath.Config{})
	vol := c.createVolume("fs", mountCap(rw), 1<<20, nil)
	pub := c.publish("rw", vol.GetVolumeId(), mountCap(rw), false)
	if err := os.WriteFile(filepath.Join(pub.target, "hello"), []byte("world"), 0o644); err != nil {
		t.Fatalf("write through read-write publication: %v", err)
	}
	// Staging again is a no-op; staging it read-only at the same path is not.
	if _, err := c.node.NodeStageVolume(ctx(t), &csi.NodeStageVolumeRequest{
		VolumeId: pub.volID, StagingTargetPath: pub.staging, VolumeCapability: mountCap(rw),
	}); err != nil {
		t.Fatalf("second NodeStageVolume: %v", err)
	}
	_, err := c.node.NodeStageVolume(ctx(t), &csi.NodeStageVolumeRequest{
		VolumeId: pub.volID, StagingTargetPath: pub.staging, VolumeCapability: mountCap(ro),
	})
	wantCode(t, err, codes.AlreadyExists, "restage with another access mode")

	roTarget := filepath.Join(c.work, "ro-target")
	if _, err := c.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{
		VolumeId: pub.volID, StagingTargetPath: pub.staging, TargetPath: roTarget, VolumeCapability: mountCap(rw), Readonly: true,
	}); err != nil {
		t.Fatalf("read-only NodePublishVolume: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(roTarget, "hello")); err != nil || string(b) != "world" {
		t.Fatalf("read through read-only publication: %q, %v", b, err)
	}
	err = os.WriteFile(filepath.Join(roTarget, "nope"), []byte("x"), 0o644)
	if !errors.Is(err, unix.EROFS) {
		t.Fatalf("write through read-only publication: got %v, want EROFS", err)
	}
	unpublishTarget(t, c, pub.volID, roTarget)
	c.unpublish(pub)
	for _, target := range []string{pub.target, roTarget} {
		if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("target %s still exists after unpublish: %v", target, err)
		}
	}

	// A volume staged for readers only cannot be published for writing.
	roPub := publication{volID: pub.volID, staging: filepath.Join(c.work, "ro-staging"), target: filepath.Join(c.work, "t2")}
	if _, err := c.node.NodeStageVolume(ctx(t), &csi.NodeStageVolumeRequest{
		VolumeId: roPub.volID, StagingTargetPath: roPub.staging, VolumeCapability: mountCap(ro),
	}); err != nil {
		t.Fatalf("read-only NodeStageVolume: %v", err)
	}
	_, err = c.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{
		VolumeId: roPub.volID, StagingTargetPath: roPub.staging, TargetPath: roPub.target, VolumeCapability: mountCap(rw),
	})
	wantCode(t, err, codes.FailedPrecondition, "read-write publish of a read-only stage")
	if err := os.WriteFile(filepath.Join(roPub.staging, "nope"), []byte("x"), 0o644); !errors.Is(err, unix.EROFS) {
		t.Fatalf("write to read-only staging mount: got %v, want EROFS", err)
	}
	if _, err := c.node.NodeUnstageVolume(ctx(t), &csi.NodeUnstageVolumeRequest{VolumeId: roPub.volID, StagingTargetPath: roPub.staging}); err != nil {
		t.Fatal(err)
	}
	c.deleteVolume(pub.volID)
}

func TestPublishRequiresStage(t *testing.T) {
	_, c := startDriver(t, hostpath.Config{})
	vol := c.createVolume("fs", mountCap(rw), 1<<20, nil)
	_, err := c.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{
		VolumeId: vol.GetVolumeId(), StagingTargetPath: filepath.Join(c.work, "never-staged"),
		TargetPath: filepath.Join(c.work, "t"), VolumeCapability: mountCap(rw),
	})
	wantCode(t, err, codes.FailedPrecondition, "publish without stage")
	_, err = c.node.NodeUnpublishVolume(ctx(t), &csi.NodeUnpublishVolumeRequest{VolumeId: "vol-0000000000000000", TargetPath: filepath.Join(c.work, "t")})
	wantCode(t, err, codes.NotFound, "unpublish of an unknown volume")
}
