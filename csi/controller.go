package csi

import (
	"context"
	"fmt"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
)

// Snapshot is a driver's snapshot of a volume.
type Snapshot struct {
	ID             string
	SourceVolumeID string
	SizeBytes      int64
	ReadyToUse     bool
	Created        time.Time
}

// SnapshotRequest asks for a named snapshot of a volume.
type SnapshotRequest struct {
	// Name makes the call idempotent: the same name returns the same
	// snapshot.
	Name           string
	SourceVolumeID string
	Parameters     map[string]string
	Secrets        map[string]string
}

// CreateSnapshot cuts a snapshot, or returns the one already cut under the
// same name.
func (c *Conn) CreateSnapshot(ctx context.Context, r SnapshotRequest) (Snapshot, error) {
	req := &csi.CreateSnapshotRequest{Name: r.Name, SourceVolumeId: r.SourceVolumeID, Parameters: r.Parameters, Secrets: r.Secrets}
	resp, err := invoke(ctx, c, "CreateSnapshot", req, r.Secrets, c.ctl.CreateSnapshot)
	if err != nil {
		return Snapshot{}, err
	}
	if resp.GetSnapshot().GetSnapshotId() == "" {
		return Snapshot{}, fmt.Errorf("CSI CreateSnapshot on driver %s returned no snapshot ID for volume %s; the driver is faulty", c.cfg.Driver, r.SourceVolumeID)
	}
	return snapshotOf(resp.GetSnapshot()), nil
}

func snapshotOf(s *csi.Snapshot) Snapshot {
	out := Snapshot{ID: s.GetSnapshotId(), SourceVolumeID: s.GetSourceVolumeId(), SizeBytes: s.GetSizeBytes(), ReadyToUse: s.GetReadyToUse()}
	if t := s.GetCreationTime(); t != nil {
		out.Created = t.AsTime()
	}
	return out
}

// DeleteSnapshot deletes a snapshot; one already gone is not an error.
func (c *Conn) DeleteSnapshot(ctx context.Context, id string, secrets map[string]string) error {
	req := &csi.DeleteSnapshotRequest{SnapshotId: id, Secrets: secrets}
	_, err := invoke(ctx, c, "DeleteSnapshot", req, secrets, c.ctl.DeleteSnapshot)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// SnapshotFilter narrows ListSnapshots; empty fields match everything.
type SnapshotFilter struct {
	SnapshotID, SourceVolumeID string
	Secrets                    map[string]string
}

// ListSnapshots returns every snapshot matching f, following the driver's
// pagination.
func (c *Conn) ListSnapshots(ctx context.Context, f SnapshotFilter) ([]Snapshot, error) {
	var out []Snapshot
	token := ""
	for {
		req := &csi.ListSnapshotsRequest{SnapshotId: f.SnapshotID, SourceVolumeId: f.SourceVolumeID, StartingToken: token, Secrets: f.Secrets}
		resp, err := invoke(ctx, c, "ListSnapshots", req, f.Secrets, c.ctl.ListSnapshots)
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetEntries() {
			out = append(out, snapshotOf(e.GetSnapshot()))
		}
		if token = resp.GetNextToken(); token == "" {
			return out, nil
		}
	}
}

// WaitSnapshotReady polls until the snapshot is ready to use (its data is
// fully cut and can be read through a new volume), or ctx ends.
func (c *Conn) WaitSnapshotReady(ctx context.Context, s Snapshot, secrets map[string]string, every time.Duration) (Snapshot, error) {
	for !s.ReadyToUse {
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("CSI snapshot %s on driver %s did not become ready: %w", s.ID, c.cfg.Driver, ctx.Err())
		case <-time.After(every):
		}
		list, err := c.ListSnapshots(ctx, SnapshotFilter{SnapshotID: s.ID, Secrets: secrets})
		if err != nil {
			return s, err
		}
		if len(list) == 0 {
			return s, fmt.Errorf("CSI snapshot %s vanished from driver %s before it was ready", s.ID, c.cfg.Driver)
		}
		s = list[0]
	}
	return s, nil
}

// AccessType says how a volume is consumed.
type AccessType int

const (
	// Mount is a file system the node mounts.
	Mount AccessType = iota
	// Block is a raw block device.
	Block
)

func (a AccessType) String() string {
	if a == Block {
		return "block"
	}
	return "filesystem"
}

// VolumeRequest asks for a named volume.
type VolumeRequest struct {
	Name          string
	CapacityBytes int64
	Access        AccessType
	FSType        string
	// FromSnapshot, when set, fills the volume from that snapshot.
	FromSnapshot string
	Parameters   map[string]string
	Secrets      map[string]string
	// Topology, when set, asks for a volume reachable from it (preferred
	// and required: the agent must be able to mount what it creates).
	Topology map[string]string
	// ReaderOnly asks for a volume only ever published read-only, which
	// lets a driver back a volume from a snapshot with the snapshot's data
	// in place instead of a copy.
	ReaderOnly bool
}

// Volume is a driver's volume.
type Volume struct {
	ID            string
	CapacityBytes int64
	Context       map[string]string
	// Topology lists the segments the volume is reachable from.
	Topology []map[string]string
}

// CreateVolume creates a volume, or returns the one already created under
// the same name.
func (c *Conn) CreateVolume(ctx context.Context, r VolumeRequest) (Volume, error) {
	req := &csi.CreateVolumeRequest{Name: r.Name, Parameters: r.Parameters, Secrets: r.Secrets,
		CapacityRange:      &csi.CapacityRange{RequiredBytes: r.CapacityBytes},
		VolumeCapabilities: []*csi.VolumeCapability{Capability(r.Access, r.FSType, r.ReaderOnly)}}
	if r.FromSnapshot != "" {
		req.VolumeContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: r.FromSnapshot}}}
	}
	if len(r.Topology) > 0 {
		t := &csi.Topology{Segments: r.Topology}
		req.AccessibilityRequirements = &csi.TopologyRequirement{Requisite: []*csi.Topology{t}, Preferred: []*csi.Topology{t}}
	}
	resp, err := invoke(ctx, c, "CreateVolume", req, r.Secrets, c.ctl.CreateVolume)
	if err != nil {
		return Volume{}, err
	}
	v := resp.GetVolume()
	if v.GetVolumeId() == "" {
		return Volume{}, fmt.Errorf("CSI CreateVolume on driver %s returned no volume ID for %s; the driver is faulty", c.cfg.Driver, r.Name)
	}
	out := Volume{ID: v.GetVolumeId(), CapacityBytes: v.GetCapacityBytes(), Context: v.GetVolumeContext()}
	for _, t := range v.GetAccessibleTopology() {
		out.Topology = append(out.Topology, t.GetSegments())
	}
	return out, nil
}

// DeleteVolume deletes a volume; one already gone is not an error.
func (c *Conn) DeleteVolume(ctx context.Context, id string, secrets map[string]string) error {
	_, err := invoke(ctx, c, "DeleteVolume", &csi.DeleteVolumeRequest{VolumeId: id, Secrets: secrets}, secrets, c.ctl.DeleteVolume)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// Capability is the CSI volume capability for one access type, single-node
// writer (or reader when readOnly).
func Capability(a AccessType, fsType string, readOnly bool) *csi.VolumeCapability {
	mode := csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER
	if readOnly {
		mode = csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY
	}
	vc := &csi.VolumeCapability{AccessMode: &csi.VolumeCapability_AccessMode{Mode: mode}}
	if a == Block {
		vc.AccessType = &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}}
	} else {
		vc.AccessType = &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{FsType: fsType}}
	}
	return vc
}
