package hostpath

import (
	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// metadataServer implements the CSI SnapshotMetadata service from the
// block maps recorded when block snapshots were cut (blockmap.go): no
// image is read at request time.
type metadataServer struct {
	csi.UnimplementedSnapshotMetadataServer
	d *Driver
}

// defaultMaxResults is the number of ranges per streamed message when the
// request leaves it to the driver: 1024 ranges are 16 KiB on the wire.
const defaultMaxResults = 1024

func (s *metadataServer) GetMetadataAllocated(req *csi.GetMetadataAllocatedRequest, stream csi.SnapshotMetadata_GetMetadataAllocatedServer) error {
	if !s.d.enabled(FeatureSnapshotMetadata) {
		return status.Error(codes.Unimplemented, "the SnapshotMetadata service is not offered by this driver (disabled)")
	}
	if req.GetSnapshotId() == "" {
		return status.Error(codes.InvalidArgument, "snapshot ID is missing")
	}
	if req.GetMaxResults() < 0 {
		return status.Error(codes.InvalidArgument, "max results is negative")
	}
	m, release, err := s.d.openBlockMap(req.GetSnapshotId())
	if err != nil {
		return err
	}
	defer release()
	if err := checkOffset(req.GetStartingOffset(), m.capacity); err != nil {
		return err
	}
	ranges := mergedRanges(m, req.GetStartingOffset(), m.allocated)
	return sendRanges(ranges, req.GetMaxResults(), func(batch []*csi.BlockMetadata) error {
		return stream.Send(&csi.GetMetadataAllocatedResponse{
			BlockMetadataType:   csi.BlockMetadataType_VARIABLE_LENGTH,
			VolumeCapacityBytes: m.capacity,
			BlockMetadata:       batch,
		})
	}, stream.Context().Err)
}

func (s *metadataServer) GetMetadataDelta(req *csi.GetMetadataDeltaRequest, stream csi.SnapshotMetadata_GetMetadataDeltaServer) error {
	if !s.d.enabled(FeatureSnapshotMetadata) {
		return status.Error(codes.Unimplemented, "the SnapshotMetadata service is not offered by this driver (disabled)")
	}
	if req.GetBaseSnapshotId() == "" || req.GetTargetSnapshotId() == "" {
		return status.Error(codes.InvalidArgument, "base and target snapshot IDs are required")
	}
	if req.GetMaxResults() < 0 {
		return status.Error(codes.InvalidArgument, "max results is negative")
	}
	if err := s.d.sameVolume(req.GetBaseSnapshotId(), req.GetTargetSnapshotId()); err != nil {
		return err
	}
	base, releaseBase, err := s.d.openBlockMap(req.GetBaseSnapshotId())
	if err != nil {
		return err
	}
	defer releaseBase()
	target, releaseTarget, err := s.d.openBlockMap(req.GetTargetSnapshotId())
	if err != nil {
		return err
	}
	defer releaseTarget()
	if base.blockSize != target.blockSize {
		return status.Errorf(codes.FailedPrecondition, "snapshots %s and %s were mapped with different block sizes (%d, %d)",
			req.GetBaseSnapshotId(), req.GetTargetSnapshotId(), base.blockSize, target.blockSize)
	}
	if err := checkOffset(req.GetStartingOffset(), target.capacity); err != nil {
		return err
	}
	ranges := mergedRanges(target, req.GetStartingOffset(), func(i int64) bool { return changed(base, target, i) })
	return sendRanges(ranges, req.GetMaxResults(), func(batch []*csi.BlockMetadata) error {
		return stream.Send(&csi.GetMetadataDeltaResponse{
			BlockMetadataType:   csi.BlockMetadataType_VARIABLE_LENGTH,
			VolumeCapacityBytes: target.capacity,
			BlockMetadata:       batch,
		})
	}, stream.Context().Err)
}

// changed reports whether block i differs between the maps. A block the
// base does not have (the volume grew) changed if the target holds data.
// A block that became all zeros changed too: the reader must write zeros.
func changed(base, target *blockMap, i int64) bool {
	if i >= base.blocks() {
		return target.allocated(i)
	}
	return string(base.hash(i)) != string(target.hash(i))
}

// openBlockMap loads a snapshot's block map, pinning the snapshot so that
// it cannot be deleted while its metadata streams.
func (d *Driver) openBlockMap(id string) (*blockMap, func(), error) {
	d.mu.Lock()
	snap := d.st.liveSnapshot(id)
	switch {
	case snap == nil:
		d.mu.Unlock()
		return nil, nil, status.Errorf(codes.NotFound, "snapshot %s does not exist", id)
	case snap.Kind != kindBlock:
		d.mu.Unlock()
		return nil, nil, status.Errorf(codes.InvalidArgument, "snapshot %s is of a filesystem volume; block metadata exists for block snapshots only", id)
	case snap.BlockSize == 0:
		d.mu.Unlock()
		return nil, nil, status.Errorf(codes.FailedPrecondition, "snapshot %s has no block map (it was cut while the SnapshotMetadata service was disabled); read it in full", id)
	}
	d.pins[id]++
	d.mu.Unlock()
	release := func() { d.unpin(id) }
	m, err := readBlockMap(d.lay.blockMapPath(id))
	if err != nil {
		release()
		return nil, nil, internal(err)
	}
	return m, release, nil
}

// sameVolume checks that a delta is asked between snapshots of one volume.
func (d *Driver) sameVolume(baseID, targetID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	base, target := d.st.liveSnapshot(baseID), d.st.liveSnapshot(targetID)
	if base == nil || target == nil {
		return nil // openBlockMap reports which is missing
	}
	if base.SourceVolumeID != target.SourceVolumeID {
		return status.Errorf(codes.InvalidArgument, "snapshots %s and %s are of different volumes (%s, %s)", baseID, targetID, base.SourceVolumeID, target.SourceVolumeID)
	}
	return nil
}

func checkOffset(off, capacity int64) error {
	if off < 0 || off > capacity {
		return status.Errorf(codes.OutOfRange, "starting offset %d is outside the volume's %d bytes", off, capacity)
	}
	return nil
}

// sendRanges streams ranges in batches of at most max (0: the default).
// An empty result still sends one message, so the caller always learns
// the volume's capacity.
func sendRanges(ranges []extent, max int32, send func([]*csi.BlockMetadata) error, ctxErr func() error) error {
	n := int(max)
	if n == 0 {
		n = defaultMaxResults
	}
	for first := true; first || len(ranges) > 0; first = false {
		if err := ctxErr(); err != nil {
			return status.FromContextError(err).Err()
		}
		k := min(n, len(ranges))
		batch := make([]*csi.BlockMetadata, k)
		for i, r := range ranges[:k] {
			batch[i] = &csi.BlockMetadata{ByteOffset: r.off, SizeBytes: r.size}
		}
		if err := send(batch); err != nil {
			return err
		}
		ranges = ranges[k:]
	}
	return nil
}
