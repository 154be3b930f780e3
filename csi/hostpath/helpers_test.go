package hostpath_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairnbackup/cairn/csi/hostpath"
	"github.com/cairnbackup/cairn/csi/hostpath/hostpathtest"
)

// client bundles the four CSI service clients of one driver.
type client struct {
	t    testing.TB
	id   csi.IdentityClient
	ctrl csi.ControllerClient
	node csi.NodeClient
	meta csi.SnapshotMetadataClient
	work string // where staging and target paths go
}

func newClient(t testing.TB, conn *grpc.ClientConn, work string) *client {
	return &client{
		t: t, id: csi.NewIdentityClient(conn), ctrl: csi.NewControllerClient(conn),
		node: csi.NewNodeClient(conn), meta: csi.NewSnapshotMetadataClient(conn), work: work,
	}
}

func startDriver(t *testing.T, cfg hostpath.Config) (*hostpathtest.Driver, *client) {
	t.Helper()
	d := hostpathtest.Start(t, cfg)
	return d, newClient(t, d.Conn(t), d.Work)
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func blockCap(mode csi.VolumeCapability_AccessMode_Mode) *csi.VolumeCapability {
	return &csi.VolumeCapability{
		AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: mode},
	}
}

func mountCap(mode csi.VolumeCapability_AccessMode_Mode) *csi.VolumeCapability {
	return &csi.VolumeCapability{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: mode},
	}
}

const (
	rw = csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER
	ro = csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY
)

func (c *client) createVolume(name string, vc *csi.VolumeCapability, size int64, src *csi.VolumeContentSource) *csi.Volume {
	c.t.Helper()
	resp, err := c.ctrl.CreateVolume(ctx(c.t), &csi.CreateVolumeRequest{
		Name: name, VolumeCapabilities: []*csi.VolumeCapability{vc},
		CapacityRange: &csi.CapacityRange{RequiredBytes: size}, VolumeContentSource: src,
	})
	if err != nil {
		c.t.Fatalf("CreateVolume %s: %v", name, err)
	}
	return resp.GetVolume()
}

func (c *client) snapshot(name, volID string) *csi.Snapshot {
	c.t.Helper()
	resp, err := c.ctrl.CreateSnapshot(ctx(c.t), &csi.CreateSnapshotRequest{Name: name, SourceVolumeId: volID})
	if err != nil {
		c.t.Fatalf("CreateSnapshot %s of %s: %v", name, volID, err)
	}
	return resp.GetSnapshot()
}

func fromSnapshot(id string) *csi.VolumeContentSource {
	return &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
		Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: id}}}
}

// publication is a volume staged and published by the test.
type publication struct {
	volID, staging, target string
}

// publish stages and publishes volID under the client's work directory and
// returns the paths; read-only publications also use a reader-only mode
// when readerMode is set.
func (c *client) publish(name, volID string, vc *csi.VolumeCapability, readOnly bool) publication {
	c.t.Helper()
	p := publication{volID: volID, staging: filepath.Join(c.work, name, "staging"), target: filepath.Join(c.work, name, "target")}
	if err := os.MkdirAll(p.staging, 0o750); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.node.NodeStageVolume(ctx(c.t), &csi.NodeStageVolumeRequest{
		VolumeId: volID, StagingTargetPath: p.staging, VolumeCapability: vc,
	}); err != nil {
		c.t.Fatalf("NodeStageVolume %s: %v", volID, err)
	}
	if _, err := c.node.NodePublishVolume(ctx(c.t), &csi.NodePublishVolumeRequest{
		VolumeId: volID, StagingTargetPath: p.staging, TargetPath: p.target, VolumeCapability: vc, Readonly: readOnly,
	}); err != nil {
		c.t.Fatalf("NodePublishVolume %s: %v", volID, err)
	}
	return p
}

func (c *client) unpublish(p publication) {
	c.t.Helper()
	if _, err := c.node.NodeUnpublishVolume(ctx(c.t), &csi.NodeUnpublishVolumeRequest{VolumeId: p.volID, TargetPath: p.target}); err != nil {
		c.t.Fatalf("NodeUnpublishVolume %s: %v", p.volID, err)
	}
	if _, err := c.node.NodeUnstageVolume(ctx(c.t), &csi.NodeUnstageVolumeRequest{VolumeId: p.volID, StagingTargetPath: p.staging}); err != nil {
		c.t.Fatalf("NodeUnstageVolume %s: %v", p.volID, err)
	}
}

func (c *client) deleteVolume(id string) {
	c.t.Helper()
	if _, err := c.ctrl.DeleteVolume(ctx(c.t), &csi.DeleteVolumeRequest{VolumeId: id}); err != nil {
		c.t.Fatalf("DeleteVolume %s: %v", id, err)
	}
}

// allocated streams GetMetadataAllocated to its end.
func (c *client) allocated(snapID string, start int64, max int32) ([]*csi.BlockMetadata, int64, int) {
	c.t.Helper()
	s, err := c.meta.GetMetadataAllocated(ctx(c.t), &csi.GetMetadataAllocatedRequest{SnapshotId: snapID, StartingOffset: start, MaxResults: max})
	if err != nil {
		c.t.Fatalf("GetMetadataAllocated %s: %v", snapID, err)
	}
	return drain(c.t, s.Recv)
}

// delta streams GetMetadataDelta to its end.
func (c *client) delta(base, target string, start int64, max int32) ([]*csi.BlockMetadata, int64, int) {
	c.t.Helper()
	s, err := c.meta.GetMetadataDelta(ctx(c.t), &csi.GetMetadataDeltaRequest{BaseSnapshotId: base, TargetSnapshotId: target, StartingOffset: start, MaxResults: max})
	if err != nil {
		c.t.Fatalf("GetMetadataDelta %s..%s: %v", base, target, err)
	}
	return drain(c.t, s.Recv)
}

type metadataResponse interface {
	GetBlockMetadataType() csi.BlockMetadataType
	GetVolumeCapacityBytes() int64
	GetBlockMetadata() []*csi.BlockMetadata
}

// drain collects a metadata stream: the ranges, the capacity, and the
// largest number of ranges in one message. It checks the spec's stream
// rules on the way: one type, VARIABLE_LENGTH here, one capacity, ranges
// strictly increasing and disjoint.
func drain[R metadataResponse](t testing.TB, recv func() (R, error)) ([]*csi.BlockMetadata, int64, int) {
	t.Helper()
	var out []*csi.BlockMetadata
	capacity, largest := int64(-1), 0
	for {
		r, err := recv()
		if errors.Is(err, io.EOF) {
			return out, capacity, largest
		}
		if err != nil {
			t.Fatalf("metadata stream: %v", err)
		}
		if r.GetBlockMetadataType() != csi.BlockMetadataType_VARIABLE_LENGTH {
			t.Fatalf("block metadata type %v, want VARIABLE_LENGTH", r.GetBlockMetadataType())
		}
		if capacity >= 0 && r.GetVolumeCapacityBytes() != capacity {
			t.Fatalf("capacity changed within the stream: %d then %d", capacity, r.GetVolumeCapacityBytes())
		}
		capacity = r.GetVolumeCapacityBytes()
		largest = max(largest, len(r.GetBlockMetadata()))
		for _, b := range r.GetBlockMetadata() {
			if n := len(out); n > 0 && out[n-1].GetByteOffset()+out[n-1].GetSizeBytes() > b.GetByteOffset() {
				t.Fatalf("range %v overlaps or precedes %v", b, out[n-1])
			}
			if b.GetSizeBytes() <= 0 {
				t.Fatalf("range %v has no size", b)
			}
			out = append(out, b)
		}
	}
}

func wantCode(t testing.TB, err error, code codes.Code, what string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("%s: got %v, want code %v", what, err, code)
	}
}
