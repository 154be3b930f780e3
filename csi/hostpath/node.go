package hostpath

import (
	"context"
	"fmt"
	"os"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// nodeServer implements the CSI Node service. The mechanics (mounts, loop
// devices, undo on failure) are in publish.go.
//
// Filesystem volumes: NodeStageVolume bind-mounts the volume directory on
// the staging path; NodePublishVolume bind-mounts the staging path on the
// target, read-only with a second remount when asked.
//
// Block volumes: staging records the volume and mounts nothing. Each
// publication attaches its own loop device, read-only when the
// publication is, and bind-mounts the device node onto the target file,
// as kubelet expects for raw block. Per-publication devices are what let
// one staged volume be published read-write and read-only at once: a
// loop device's read-only flag is per device, and a read-only bind mount
// of a device node does not stop writes through it. Without loop devices
// the image file itself is bind-mounted, and there a read-only bind does
// refuse writes.
type nodeServer struct {
	csi.UnimplementedNodeServer
	d *Driver
}

func (s *nodeServer) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	resp := &csi.NodeGetCapabilitiesResponse{}
	for _, t := range []csi.NodeServiceCapability_RPC_Type{
		csi.NodeServiceCapability_RPC_STAGE_UNSTAGE_VOLUME,
		csi.NodeServiceCapability_RPC_GET_VOLUME_STATS,
		csi.NodeServiceCapability_RPC_SINGLE_NODE_MULTI_WRITER,
	} {
		resp.Capabilities = append(resp.Capabilities, &csi.NodeServiceCapability{
			Type: &csi.NodeServiceCapability_Rpc{Rpc: &csi.NodeServiceCapability_RPC{Type: t}},
		})
	}
	return resp, nil
}

func (s *nodeServer) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	return &csi.NodeGetInfoResponse{NodeId: s.d.cfg.NodeID, AccessibleTopology: s.d.topology()[0]}, nil
}

func (s *nodeServer) NodeStageVolume(ctx context.Context, req *csi.NodeStageVolumeRequest) (*csi.NodeStageVolumeResponse, error) {
	if req.GetVolumeId() == "" || req.GetStagingTargetPath() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID and staging target path are required")
	}
	ci, err := s.d.parseCapability(req.GetVolumeCapability())
	if err != nil {
		return nil, invalid(err)
	}
	release, err := s.d.claim("path " + req.GetStagingTargetPath())
	if err != nil {
		return nil, err
	}
	defer release()
	rec, src, err := s.d.recordStage(req.GetVolumeId(), req.GetStagingTargetPath(), ci)
	if err != nil {
		return nil, err
	}
	if err := s.d.mountStage(rec, src); err != nil {
		s.d.dropStage(rec.Path)
		return nil, internal(err)
	}
	s.d.log.InfoContext(ctx, "volume staged", "volume", rec.VolumeID, "path", rec.Path, "readOnly", rec.ReadOnly)
	return &csi.NodeStageVolumeResponse{}, nil
}

// recordStage validates a stage request and records it before anything is
// mounted, so that a driver restarted after a crash knows what to undo.
// Staging again with the same arguments is accepted (idempotency).
func (d *Driver) recordStage(volID, path string, ci capInfo) (*stageRecord, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.st.Volumes[volID]
	if v == nil {
		return nil, "", status.Errorf(codes.NotFound, "volume %s does not exist", volID)
	}
	if err := fitsVolume(ci, v); err != nil {
		return nil, "", status.Error(codes.FailedPrecondition, err.Error())
	}
	rec := &stageRecord{VolumeID: volID, Path: path, Kind: v.Kind, ReadOnly: ci.readerOnly || v.ReadOnly}
	if old := d.st.Stages[path]; old != nil {
		if *old != *rec {
			return nil, "", status.Errorf(codes.AlreadyExists, "staging path %s already holds volume %s (read-only %t)", path, old.VolumeID, old.ReadOnly)
		}
		return old, d.volumeData(v), nil
	}
	d.st.Stages[path] = rec
	if err := d.saveLocked(); err != nil {
		delete(d.st.Stages, path)
		return nil, "", internal(fmt.Errorf("record stage of %s at %s: %w", volID, path, err))
	}
	return rec, d.volumeData(v), nil
}

func (s *nodeServer) NodeUnstageVolume(ctx context.Context, req *csi.NodeUnstageVolumeRequest) (*csi.NodeUnstageVolumeResponse, error) {
	if req.GetVolumeId() == "" || req.GetStagingTargetPath() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID and staging target path are required")
	}
	release, err := s.d.claim("path " + req.GetStagingTargetPath())
	if err != nil {
		return nil, err
	}
	defer release()
	rec, err := s.d.findRecord(req.GetVolumeId(), func(st *state) (string, bool) {
		r := st.Stages[req.GetStagingTargetPath()]
		return r.volumeID(), r != nil
	})
	if err != nil || rec == "" {
		return &csi.NodeUnstageVolumeResponse{}, err // "": not staged here, nothing to undo
	}
	if err := unmountAll(req.GetStagingTargetPath()); err != nil {
		return nil, internal(err)
	}
	if err := s.d.dropStage(req.GetStagingTargetPath()); err != nil {
		return nil, err
	}
	s.d.log.InfoContext(ctx, "volume unstaged", "volume", req.GetVolumeId(), "path", req.GetStagingTargetPath())
	return &csi.NodeUnstageVolumeResponse{}, nil
}

func (r *stageRecord) volumeID() string {
	if r == nil {
		return ""
	}
	return r.VolumeID
}

// findRecord looks up the record an unstage or unpublish undoes. It
// returns "" (and no error) when there is nothing of this volume to undo,
// and NotFound when the volume is unknown and nothing is recorded.
func (d *Driver) findRecord(volID string, lookup func(*state) (string, bool)) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	owner, ok := lookup(d.st)
	switch {
	case ok && owner == volID:
		return volID, nil
	case ok:
		d.log.Warn("path belongs to another volume; leaving it", "volume", volID, "owner", owner)
		return "", nil
	case d.st.Volumes[volID] == nil:
		return "", status.Errorf(codes.NotFound, "volume %s does not exist", volID)
	}
	return "", nil
}

func (s *nodeServer) NodePublishVolume(ctx context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	if req.GetVolumeId() == "" || req.GetTargetPath() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID and target path are required")
	}
	ci, err := s.d.parseCapability(req.GetVolumeCapability())
	if err != nil {
		return nil, invalid(err)
	}
	if req.GetStagingTargetPath() == "" {
		return nil, status.Error(codes.FailedPrecondition, "staging target path is missing: this driver stages volumes (STAGE_UNSTAGE_VOLUME)")
	}
	release, err := s.d.claim("path " + req.GetTargetPath())
	if err != nil {
		return nil, err
	}
	defer release()
	want := &publishRecord{
		VolumeID: req.GetVolumeId(), Target: req.GetTargetPath(), Staging: req.GetStagingTargetPath(),
		Kind: ci.kind, ReadOnly: req.GetReadonly() || ci.readerOnly, SingleWriter: ci.singleWriter,
	}
	rec, done, err := s.d.recordPublish(want, ci)
	if err != nil || done {
		return &csi.NodePublishVolumeResponse{}, err
	}
	if err := s.d.setUpPublication(ctx, rec); err != nil {
		s.d.undoPublication(ctx, rec)
		return nil, internal(err)
	}
	s.d.log.InfoContext(ctx, "volume published", "volume", rec.VolumeID, "target", rec.Target,
		"readOnly", rec.ReadOnly, "device", rec.Device)
	return &csi.NodePublishVolumeResponse{}, nil
}

func (s *nodeServer) NodeUnpublishVolume(ctx context.Context, req *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	if req.GetVolumeId() == "" || req.GetTargetPath() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID and target path are required")
	}
	release, err := s.d.claim("path " + req.GetTargetPath())
	if err != nil {
		return nil, err
	}
	defer release()
	var rec *publishRecord
	owner, err := s.d.findRecord(req.GetVolumeId(), func(st *state) (string, bool) {
		rec = st.Publications[req.GetTargetPath()]
		return rec.volumeID(), rec != nil
	})
	if err != nil || owner == "" {
		return &csi.NodeUnpublishVolumeResponse{}, err
	}
	if err := s.d.tearDownPublication(rec); err != nil {
		return nil, internal(err)
	}
	s.d.log.InfoContext(ctx, "volume unpublished", "volume", rec.VolumeID, "target", rec.Target, "device", rec.Device)
	return &csi.NodeUnpublishVolumeResponse{}, nil
}

func (r *publishRecord) volumeID() string {
	if r == nil {
		return ""
	}
	return r.VolumeID
}

func (s *nodeServer) NodeGetVolumeStats(ctx context.Context, req *csi.NodeGetVolumeStatsRequest) (*csi.NodeGetVolumeStatsResponse, error) {
	if req.GetVolumeId() == "" || req.GetVolumePath() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID and volume path are required")
	}
	s.d.mu.Lock()
	v := s.d.st.Volumes[req.GetVolumeId()]
	pub, stage := s.d.st.Publications[req.GetVolumePath()], s.d.st.Stages[req.GetVolumePath()]
	s.d.mu.Unlock()
	if v == nil {
		return nil, status.Errorf(codes.NotFound, "volume %s does not exist", req.GetVolumeId())
	}
	if pub.volumeID() != v.ID && stage.volumeID() != v.ID {
		return nil, status.Errorf(codes.NotFound, "volume %s is neither published nor staged at %s", v.ID, req.GetVolumePath())
	}
	if v.Kind == kindBlock {
		return &csi.NodeGetVolumeStatsResponse{Usage: []*csi.VolumeUsage{{Unit: csi.VolumeUsage_BYTES, Total: v.CapacityBytes}}}, nil
	}
	// A directory volume has no quota: report the file system it lives on.
	var fs unix.Statfs_t
	if err := unix.Statfs(req.GetVolumePath(), &fs); err != nil {
		if os.IsNotExist(err) {
			return nil, status.Errorf(codes.NotFound, "volume path %s does not exist", req.GetVolumePath())
		}
		return nil, internal(fmt.Errorf("statfs %s: %w", req.GetVolumePath(), err))
	}
	bs := fs.Bsize
	return &csi.NodeGetVolumeStatsResponse{Usage: []*csi.VolumeUsage{
		{Unit: csi.VolumeUsage_BYTES, Total: int64(fs.Blocks) * bs, Available: int64(fs.Bavail) * bs, Used: int64(fs.Blocks-fs.Bfree) * bs},
		{Unit: csi.VolumeUsage_INODES, Total: int64(fs.Files), Available: int64(fs.Ffree), Used: int64(fs.Files - fs.Ffree)},
	}}, nil
}
