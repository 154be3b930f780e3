package hostpath

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The snapshot RPCs of the Controller service. A snapshot is a full copy
// made at once (ready_to_use is always true): a reflink or sparse copy of
// a block image, with its block map, or a copy of a directory tree. The
// copy is as consistent as the source is quiet; like most arrays without
// a freeze hook, the driver relies on the CO to quiesce the application.

func (s *controllerServer) CreateSnapshot(ctx context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	if !s.d.enabled(FeatureSnapshots) {
		return nil, status.Error(codes.Unimplemented, "snapshots are not supported by this driver (disabled)")
	}
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "snapshot name is missing")
	}
	if req.GetSourceVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "source volume ID is missing")
	}
	release, err := s.d.claim("snapshot name " + req.GetName())
	if err != nil {
		return nil, err
	}
	defer release()
	rec, src, err := s.d.planSnapshot(req)
	if err != nil || src == "" {
		return snapshotResponse(rec), err
	}
	defer s.d.unpin(rec.SourceVolumeID)
	// The cut runs to its end even if the caller gives up: its retry (same
	// name) then finds the snapshot made, where an abandoned cut would make
	// a caller with a short timeout retry forever.
	if err := s.d.buildSnapshot(context.WithoutCancel(ctx), rec, src); err != nil {
		return nil, internal(err)
	}
	if err := s.d.commitSnapshot(rec); err != nil {
		return nil, err
	}
	s.d.log.InfoContext(ctx, "snapshot created", "snapshot", rec.ID, "name", rec.Name,
		"sourceVolume", rec.SourceVolumeID, "kind", rec.Kind, "blockMap", rec.BlockSize != 0)
	return snapshotResponse(rec), nil
}

func snapshotResponse(rec *snapshotRecord) *csi.CreateSnapshotResponse {
	if rec == nil {
		return nil
	}
	return &csi.CreateSnapshotResponse{Snapshot: csiSnapshot(rec)}
}

// planSnapshot returns an existing snapshot of the same name (idempotency;
// src is then ""), or a new record and the data to copy, with the source
// volume pinned against deletion.
func (d *Driver) planSnapshot(req *csi.CreateSnapshotRequest) (rec *snapshotRecord, src string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.st.snapshotByName(req.GetName()); s != nil {
		if s.SourceVolumeID != req.GetSourceVolumeId() {
			return nil, "", status.Errorf(codes.AlreadyExists, "snapshot %q exists as %s of volume %s, not of %s", s.Name, s.ID, s.SourceVolumeID, req.GetSourceVolumeId())
		}
		return s, "", nil
	}
	v := d.st.Volumes[req.GetSourceVolumeId()]
	if v == nil {
		return nil, "", status.Errorf(codes.NotFound, "source volume %s does not exist", req.GetSourceVolumeId())
	}
	rec = &snapshotRecord{
		ID: newID(snapshotPrefix), Name: req.GetName(), SourceVolumeID: v.ID, Kind: v.Kind,
		SizeBytes: v.CapacityBytes, Parameters: req.GetParameters(), CreatedAt: time.Now().UTC(),
	}
	if v.Kind == kindBlock && d.enabled(FeatureSnapshotMetadata) {
		rec.BlockSize = d.cfg.BlockSize
	}
	d.pins[v.ID]++
	return rec, d.volumeData(v), nil
}

// buildSnapshot copies the data under tmp/, records the block map of a
// block snapshot, and renames both into place.
func (d *Driver) buildSnapshot(ctx context.Context, rec *snapshotRecord, src string) error {
	tmp := d.lay.tmpPath(dataName(rec.ID, rec.Kind))
	tmpMap := d.lay.tmpPath(rec.ID + ".blockmap")
	err := d.copySnapshotData(ctx, rec, src, tmp, tmpMap)
	if err == nil && rec.BlockSize != 0 {
		err = os.Rename(tmpMap, d.lay.blockMapPath(rec.ID))
	}
	if err == nil {
		err = os.Rename(tmp, d.lay.snapshotPath(rec.ID, rec.Kind))
	}
	if err == nil {
		err = syncDir(d.lay.snapshotsDir())
	}
	if err != nil {
		removeData(tmp)
		removeData(tmpMap)
		removeData(d.lay.blockMapPath(rec.ID))
		return fmt.Errorf("snapshot volume %s: %w", rec.SourceVolumeID, err)
	}
	return nil
}

func (d *Driver) copySnapshotData(ctx context.Context, rec *snapshotRecord, src, tmp, tmpMap string) error {
	if err := copyData(src, tmp, rec.Kind, 0); err != nil {
		return err
	}
	if rec.BlockSize == 0 {
		return nil
	}
	// Hash the copy, not the source: the map must describe exactly the
	// bytes the snapshot holds even if the volume is written meanwhile.
	m, err := computeBlockMap(ctx, tmp, rec.BlockSize)
	if err != nil {
		return err
	}
	return writeFileAtomic(tmpMap, m.marshal())
}

func (d *Driver) commitSnapshot(rec *snapshotRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.st.Snapshots[rec.ID] = rec
	if err := d.saveLocked(); err != nil {
		delete(d.st.Snapshots, rec.ID)
		removeData(d.lay.snapshotPath(rec.ID, rec.Kind))
		removeData(d.lay.blockMapPath(rec.ID))
		return internal(fmt.Errorf("record snapshot %s: %w", rec.ID, err))
	}
	return nil
}

func csiSnapshot(s *snapshotRecord) *csi.Snapshot {
	return &csi.Snapshot{
		SnapshotId:     s.ID,
		SourceVolumeId: s.SourceVolumeID,
		SizeBytes:      s.SizeBytes,
		CreationTime:   timestamppb.New(s.CreatedAt),
		ReadyToUse:     true,
	}
}

func (s *controllerServer) DeleteSnapshot(ctx context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	if !s.d.enabled(FeatureSnapshots) {
		return nil, status.Error(codes.Unimplemented, "snapshots are not supported by this driver (disabled)")
	}
	id := req.GetSnapshotId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "snapshot ID is missing")
	}
	snap, shared, err := s.d.forgetSnapshot(id)
	if err != nil || snap == nil {
		return &csi.DeleteSnapshotResponse{}, err // nil snap: already gone
	}
	if !shared {
		for _, p := range []string{s.d.lay.snapshotPath(id, snap.Kind), s.d.lay.blockMapPath(id)} {
			if err := removeData(p); err != nil {
				s.d.log.WarnContext(ctx, "remove data of deleted snapshot", "snapshot", id, "error", err)
			}
		}
	}
	s.d.log.InfoContext(ctx, "snapshot deleted", "snapshot", id, "name", snap.Name, "dataKeptForThinClones", shared)
	return &csi.DeleteSnapshotResponse{}, nil
}

// forgetSnapshot removes a snapshot's record, or only hides it when thin
// clones still use its data (shared is then true).
func (d *Driver) forgetSnapshot(id string) (snap *snapshotRecord, shared bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	snap = d.st.liveSnapshot(id)
	if snap == nil {
		return nil, false, nil
	}
	if d.pins[id] > 0 {
		return nil, false, status.Errorf(codes.Aborted, "snapshot %s is being read (a volume is being created from it, or its metadata streamed)", id)
	}
	shared = d.st.sharers(id) > 0
	if shared {
		snap.Deleted = true
	} else {
		delete(d.st.Snapshots, id)
	}
	if err := d.saveLocked(); err != nil {
		snap.Deleted = false
		d.st.Snapshots[id] = snap
		return nil, false, internal(fmt.Errorf("record deletion of snapshot %s: %w", id, err))
	}
	return snap, shared, nil
}

func (s *controllerServer) ListSnapshots(ctx context.Context, req *csi.ListSnapshotsRequest) (*csi.ListSnapshotsResponse, error) {
	if !s.d.enabled(FeatureSnapshots) {
		return nil, status.Error(codes.Unimplemented, "snapshots are not supported by this driver (disabled)")
	}
	tok := req.GetStartingToken()
	if tok != "" && !validID(snapshotPrefix, tok) {
		return nil, status.Errorf(codes.Aborted, "starting token %q was not issued by this driver", tok)
	}
	if req.GetMaxEntries() < 0 {
		return nil, status.Error(codes.InvalidArgument, "max entries is negative")
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var ids []string
	for _, id := range sortedKeys(s.d.st.Snapshots) {
		snap := s.d.st.Snapshots[id]
		if snap.Deleted ||
			(req.GetSnapshotId() != "" && id != req.GetSnapshotId()) ||
			(req.GetSourceVolumeId() != "" && snap.SourceVolumeID != req.GetSourceVolumeId()) {
			continue
		}
		ids = append(ids, id)
	}
	ids, next := page(ids, tok, int(req.GetMaxEntries()))
	resp := &csi.ListSnapshotsResponse{NextToken: next}
	for _, id := range ids {
		resp.Entries = append(resp.Entries, &csi.ListSnapshotsResponse_Entry{Snapshot: csiSnapshot(s.d.st.Snapshots[id])})
	}
	return resp, nil
}

func (s *controllerServer) GetSnapshot(ctx context.Context, req *csi.GetSnapshotRequest) (*csi.GetSnapshotResponse, error) {
	if !s.d.enabled(FeatureSnapshots) {
		return nil, status.Error(codes.Unimplemented, "snapshots are not supported by this driver (disabled)")
	}
	if req.GetSnapshotId() == "" {
		return nil, status.Error(codes.InvalidArgument, "snapshot ID is missing")
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	snap := s.d.st.liveSnapshot(req.GetSnapshotId())
	if snap == nil {
		return nil, status.Errorf(codes.NotFound, "snapshot %s does not exist", req.GetSnapshotId())
	}
	return &csi.GetSnapshotResponse{Snapshot: csiSnapshot(snap)}, nil
}
