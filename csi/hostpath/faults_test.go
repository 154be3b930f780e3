package hostpath_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairnbackup/cairn/csi/hostpath"
	"github.com/cairnbackup/cairn/csi/hostpath/hostpathtest"
)

func TestFaults(t *testing.T) {
	d, c := startDriver(t, hostpath.Config{
		Faults: []hostpath.Fault{{RPC: "CreateSnapshot", Code: codes.Unavailable, Message: "array offline"}},
	})
	vol := c.createVolume("v", blockCap(rw), 1<<20, nil)
	_, err := c.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "s", SourceVolumeId: vol.GetVolumeId()})
	if status.Code(err) != codes.Unavailable || status.Convert(err).Message() != "array offline" {
		t.Fatalf("configured fault: got %v", err)
	}

	if err := d.SetFault("DeleteVolume", codes.Internal, "disk on fire"); err != nil {
		t.Fatal(err)
	}
	_, err = c.ctrl.DeleteVolume(ctx(t), &csi.DeleteVolumeRequest{VolumeId: vol.GetVolumeId()})
	wantCode(t, err, codes.Internal, "runtime fault")

	d.ClearFaults()
	c.snapshot("s", vol.GetVolumeId())
	if n := d.Calls("CreateSnapshot"); n != 2 {
		t.Fatalf("CreateSnapshot called %d times, want 2 (the failed one counts)", n)
	}

	// A fault with Times fails that many calls, then the RPC works again:
	// what a caller's retry loop needs.
	if err := d.InjectFault(hostpath.Fault{RPC: "ListSnapshots", Code: codes.Aborted, Message: "busy", Times: 2}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []codes.Code{codes.Aborted, codes.Aborted, codes.OK} {
		_, err := c.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{})
		wantCode(t, err, want, "ListSnapshots call "+string(rune('1'+i)))
	}

	if err := d.SetFault("NoSuchRPC", codes.Internal, ""); err == nil || !strings.Contains(err.Error(), "unknown RPC") {
		t.Fatalf("SetFault on an unknown RPC: %v", err)
	}
	c.deleteVolume(vol.GetVolumeId())
}

func TestHangs(t *testing.T) {
	d, c := startDriver(t, hostpath.Config{Hangs: []string{"CreateVolume"}})
	short := func() context.Context {
		cx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		t.Cleanup(cancel)
		return cx
	}
	start := time.Now()
	_, err := c.ctrl.CreateVolume(short(), &csi.CreateVolumeRequest{Name: "v", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)}})
	wantCode(t, err, codes.DeadlineExceeded, "hung CreateVolume")
	if time.Since(start) < 200*time.Millisecond {
		t.Fatal("CreateVolume returned before its deadline")
	}
	if err := d.SetHang("GetMetadataAllocated", true); err != nil {
		t.Fatal(err)
	}
	s, err := c.meta.GetMetadataAllocated(short(), &csi.GetMetadataAllocatedRequest{SnapshotId: "snap-0000000000000000"})
	if err == nil {
		_, err = s.Recv()
	}
	wantCode(t, err, codes.DeadlineExceeded, "hung GetMetadataAllocated stream")

	if err := d.SetHang("CreateVolume", false); err != nil {
		t.Fatal(err)
	}
	vol := c.createVolume("v", blockCap(rw), 1<<20, nil)
	c.deleteVolume(vol.GetVolumeId())
	// A call hung without a deadline does not keep the driver from
	// stopping: the server cancels it after a grace period.
	if err := d.SetHang("ListVolumes", true); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.ctrl.ListVolumes(context.Background(), &csi.ListVolumesRequest{})
		done <- err
	}()
	for d.Calls("ListVolumes") == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	d.Restart(t)
	if err := <-done; err == nil {
		t.Fatal("hung ListVolumes succeeded")
	}
}

func TestParseFault(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     hostpath.Fault
		err      string
	}{
		{"name", "CreateSnapshot=Unavailable", hostpath.Fault{RPC: "CreateSnapshot", Code: codes.Unavailable, Message: "injected fault: Unavailable"}, ""},
		{"upper case", "NodeStageVolume=RESOURCE_EXHAUSTED", hostpath.Fault{RPC: "NodeStageVolume", Code: codes.ResourceExhausted, Message: "injected fault: ResourceExhausted"}, ""},
		{"number and message with colons", "DeleteVolume=13:disk: gone", hostpath.Fault{RPC: "DeleteVolume", Code: codes.Internal, Message: "disk: gone"}, ""},
		{"stream RPC", "GetMetadataDelta=Unavailable:x", hostpath.Fault{RPC: "GetMetadataDelta", Code: codes.Unavailable, Message: "x"}, ""},
		{"unknown RPC", "Bogus=Unavailable", hostpath.Fault{}, "unknown RPC"},
		{"no code", "CreateSnapshot", hostpath.Fault{}, "want RPC=CODE"},
		{"unknown code", "CreateSnapshot=Sad", hostpath.Fault{}, "unknown gRPC code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hostpath.ParseFault(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want error containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestProcessFlags drives the binary's --fault, --hang, --disable and
// --secret flags end to end.
func TestProcessFlags(t *testing.T) {
	p := hostpathtest.StartProcess(t, hostpath.Config{
		Faults:   []hostpath.Fault{{RPC: "NodeStageVolume", Code: codes.ResourceExhausted, Message: "no more mounts"}},
		Hangs:    []string{"DeleteSnapshot"},
		Disabled: []hostpath.Feature{hostpath.FeatureBlock},
		Secrets:  map[string]string{"key": "process-secret-value"},
	})
	c := newClient(t, p.Conn(t), p.Work)
	_, err := c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "v", VolumeCapabilities: []*csi.VolumeCapability{mountCap(rw)}})
	wantCode(t, err, codes.InvalidArgument, "CreateVolume without the --secret")
	secrets := map[string]string{"key": "process-secret-value"}
	_, err = c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "b", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)}, Secrets: secrets})
	wantCode(t, err, codes.InvalidArgument, "block volume with --disable block")
	resp, err := c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "v", VolumeCapabilities: []*csi.VolumeCapability{mountCap(rw)}, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.node.NodeStageVolume(ctx(t), &csi.NodeStageVolumeRequest{
		VolumeId: resp.GetVolume().GetVolumeId(), StagingTargetPath: p.Work + "/s", VolumeCapability: mountCap(rw),
	})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "no more mounts") {
		t.Fatalf("--fault: got %v", err)
	}
	snap, err := c.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "s", SourceVolumeId: resp.GetVolume().GetVolumeId(), Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	cx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = c.ctrl.DeleteSnapshot(cx, &csi.DeleteSnapshotRequest{SnapshotId: snap.GetSnapshot().GetSnapshotId(), Secrets: secrets})
	wantCode(t, err, codes.DeadlineExceeded, "--hang DeleteSnapshot")
	if strings.Contains(p.Logs(), "process-secret-value") {
		t.Fatal("the process logged the secret")
	}
}
