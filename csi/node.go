package csi

import (
	"context"

	"github.com/container-storage-interface/spec/lib/go/csi"
)

// NodeInfo is what the driver's node service says of this node.
type NodeInfo struct {
	ID       string
	Topology map[string]string
}

// NodeInfo asks the node service for its node ID and topology.
func (c *Conn) NodeInfo(ctx context.Context) (NodeInfo, error) {
	resp, err := invoke(ctx, c, "NodeGetInfo", &csi.NodeGetInfoRequest{}, nil, c.node.NodeGetInfo)
	if err != nil {
		return NodeInfo{}, err
	}
	return NodeInfo{ID: resp.GetNodeId(), Topology: resp.GetAccessibleTopology().GetSegments()}, nil
}

// Mounting describes one volume made available on this node: staged at
// StagingPath (when the driver stages) and published at TargetPath. For a
// filesystem volume TargetPath is a directory; for a block volume it is a
// file the device is bound onto.
type Mounting struct {
	VolumeID string
	Access   AccessType
	FSType   string
	// ReadOnly publishes read-only; ReaderOnly says the volume was created
	// reader-only (VolumeRequest.ReaderOnly), so its capability says so.
	ReadOnly, ReaderOnly bool
	StagingPath          string
	TargetPath           string
	VolumeContext        map[string]string
	StageSecrets         map[string]string
	PublishSecret        map[string]string
}

// Stage runs NodeStageVolume.
func (c *Conn) Stage(ctx context.Context, m Mounting) error {
	req := &csi.NodeStageVolumeRequest{VolumeId: m.VolumeID, StagingTargetPath: m.StagingPath,
		VolumeCapability: Capability(m.Access, m.FSType, m.ReaderOnly), VolumeContext: m.VolumeContext, Secrets: m.StageSecrets}
	_, err := invoke(ctx, c, "NodeStageVolume", req, m.StageSecrets, c.node.NodeStageVolume)
	return err
}

// Publish runs NodePublishVolume; staged tells whether Stage ran first.
func (c *Conn) Publish(ctx context.Context, m Mounting, staged bool) error {
	req := &csi.NodePublishVolumeRequest{VolumeId: m.VolumeID, TargetPath: m.TargetPath, Readonly: m.ReadOnly,
		VolumeCapability: Capability(m.Access, m.FSType, m.ReaderOnly), VolumeContext: m.VolumeContext, Secrets: m.PublishSecret}
	if staged {
		req.StagingTargetPath = m.StagingPath
	}
	_, err := invoke(ctx, c, "NodePublishVolume", req, m.PublishSecret, c.node.NodePublishVolume)
	return err
}

// Unpublish runs NodeUnpublishVolume; a volume not published there is not
// an error.
func (c *Conn) Unpublish(ctx context.Context, volumeID, targetPath string) error {
	req := &csi.NodeUnpublishVolumeRequest{VolumeId: volumeID, TargetPath: targetPath}
	_, err := invoke(ctx, c, "NodeUnpublishVolume", req, nil, c.node.NodeUnpublishVolume)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// Unstage runs NodeUnstageVolume; a volume not staged there is not an
// error.
func (c *Conn) Unstage(ctx context.Context, volumeID, stagingPath string) error {
	req := &csi.NodeUnstageVolumeRequest{VolumeId: volumeID, StagingTargetPath: stagingPath}
	_, err := invoke(ctx, c, "NodeUnstageVolume", req, nil, c.node.NodeUnstageVolume)
	if IsNotFound(err) {
		return nil
	}
	return err
}
