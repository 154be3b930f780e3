package hostpath_test

import (
	"strings"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairnbackup/cairn/csi/hostpath"
)

// TestSecretsRequiredAndNeverLogged: with Config.Secrets the Controller
// RPCs demand them; no error and no log line ever carries a secret value,
// whether it was right, wrong, or sent to an RPC that does not check it.
func TestSecretsRequiredAndNeverLogged(t *testing.T) {
	const secret, wrong = "correct-horse-battery-staple", "wrong-but-still-private"
	d, c := startDriver(t, hostpath.Config{Secrets: map[string]string{"password": secret}})
	good := map[string]string{"password": secret, "extra": "another-private-value"}
	bad := map[string]string{"password": wrong}
	caps := []*csi.VolumeCapability{blockCap(rw)}

	var errs []error
	_, err := c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "v", VolumeCapabilities: caps})
	wantCode(t, err, codes.InvalidArgument, "CreateVolume without secrets")
	errs = append(errs, err)
	_, err = c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "v", VolumeCapabilities: caps, Secrets: bad})
	wantCode(t, err, codes.Unauthenticated, "CreateVolume with a wrong secret")
	errs = append(errs, err)
	vol, err := c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "v", VolumeCapabilities: caps, Secrets: good,
		CapacityRange: &csi.CapacityRange{RequiredBytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	id := vol.GetVolume().GetVolumeId()
	_, err = c.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "s", SourceVolumeId: id, Secrets: bad})
	wantCode(t, err, codes.Unauthenticated, "CreateSnapshot with a wrong secret")
	errs = append(errs, err)
	snap, err := c.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "s", SourceVolumeId: id, Secrets: good})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{Secrets: good}); err != nil {
		t.Fatal(err)
	}
	// Node and SnapshotMetadata RPCs carry secrets too; they are not
	// checked, but they are logged, and must be logged redacted.
	staging := c.work + "/staging"
	if _, err := c.node.NodeStageVolume(ctx(t), &csi.NodeStageVolumeRequest{VolumeId: id, StagingTargetPath: staging, VolumeCapability: blockCap(rw), Secrets: good}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.node.NodeUnstageVolume(ctx(t), &csi.NodeUnstageVolumeRequest{VolumeId: id, StagingTargetPath: staging}); err != nil {
		t.Fatal(err)
	}
	s, err := c.meta.GetMetadataAllocated(ctx(t), &csi.GetMetadataAllocatedRequest{SnapshotId: snap.GetSnapshot().GetSnapshotId(), Secrets: good})
	if err == nil {
		_, err = s.Recv()
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ctrl.DeleteSnapshot(ctx(t), &csi.DeleteSnapshotRequest{SnapshotId: snap.GetSnapshot().GetSnapshotId(), Secrets: good}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ctrl.DeleteVolume(ctx(t), &csi.DeleteVolumeRequest{VolumeId: id, Secrets: good}); err != nil {
		t.Fatal(err)
	}

	values := []string{secret, wrong, "another-private-value"}
	for _, err := range errs {
		for _, v := range values {
			if strings.Contains(status.Convert(err).Message(), v) {
				t.Errorf("error %q carries a secret value", err)
			}
		}
	}
	logs := d.Logs()
	for _, v := range values {
		if strings.Contains(logs, v) {
			t.Errorf("the driver logged the secret value %q", v)
		}
	}
	for _, rpc := range []string{"CreateVolume", "NodeStageVolume", "GetMetadataAllocated", "DeleteVolume"} {
		if !strings.Contains(logs, `"rpc":"`+rpc+`"`) {
			t.Errorf("%s was not logged, so the redaction check proves nothing", rpc)
		}
	}
	if n := strings.Count(logs, "***redacted***"); n < 8 {
		t.Errorf("only %d redacted values in the log; secrets were sent on at least 8 requests", n)
	}
}
