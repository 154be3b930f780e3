package hostpath

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// controllerServer implements the CSI Controller service: volumes here,
// snapshots in controller_snapshots.go.
type controllerServer struct {
	csi.UnimplementedControllerServer
	d *Driver
}

// VolumeNameKey is the volume_context key holding the name a volume was
// created with.
const VolumeNameKey = "hostpath.csi.cairn.dev/name"

const (
	// defaultVolumeSize applies when a request names no capacity; images
	// are sparse, so it costs nothing until written.
	defaultVolumeSize = 1 << 30
	// sizeAlign rounds capacities up to whole 4 KiB blocks, which every
	// file system block size and the loop device's sector size divide.
	sizeAlign = 4096
)

func (s *controllerServer) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	types := []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_LIST_VOLUMES,
		csi.ControllerServiceCapability_RPC_GET_CAPACITY,
		csi.ControllerServiceCapability_RPC_CLONE_VOLUME,
		csi.ControllerServiceCapability_RPC_SINGLE_NODE_MULTI_WRITER,
	}
	if s.d.enabled(FeatureSnapshots) {
		types = append(types,
			csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
			csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
			csi.ControllerServiceCapability_RPC_GET_SNAPSHOT)
	}
	resp := &csi.ControllerGetCapabilitiesResponse{}
	for _, t := range types {
		resp.Capabilities = append(resp.Capabilities, &csi.ControllerServiceCapability{
			Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: t}},
		})
	}
	return resp, nil
}

// volumeRequest is a validated CreateVolumeRequest.
type volumeRequest struct {
	name            string
	kind            accessKind
	readOnly        bool
	required, limit int64
	params          map[string]string
	srcSnapshot     string
	srcVolume       string
}

func (s *controllerServer) CreateVolume(ctx context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	want, err := s.d.parseCreateVolume(req)
	if err != nil {
		return nil, err
	}
	release, err := s.d.claim("volume name " + want.name)
	if err != nil {
		return nil, err
	}
	defer release()
	v, err := s.d.createVolume(ctx, want)
	if err != nil {
		return nil, err
	}
	return &csi.CreateVolumeResponse{Volume: s.d.csiVolume(v)}, nil
}

func (d *Driver) parseCreateVolume(req *csi.CreateVolumeRequest) (volumeRequest, error) {
	if req.GetName() == "" {
		return volumeRequest{}, status.Error(codes.InvalidArgument, "volume name is missing")
	}
	kind, readOnly, err := d.parseCapabilities(req.GetVolumeCapabilities())
	if err != nil {
		return volumeRequest{}, invalid(err)
	}
	want := volumeRequest{
		name: req.GetName(), kind: kind, readOnly: readOnly, params: req.GetParameters(),
		required: req.GetCapacityRange().GetRequiredBytes(), limit: req.GetCapacityRange().GetLimitBytes(),
	}
	if want.required < 0 || want.limit < 0 {
		return volumeRequest{}, status.Error(codes.InvalidArgument, "capacity range has a negative bound")
	}
	if want.limit > 0 && want.required > want.limit {
		return volumeRequest{}, status.Errorf(codes.OutOfRange, "required bytes %d exceed limit bytes %d", want.required, want.limit)
	}
	if len(req.GetMutableParameters()) > 0 {
		return volumeRequest{}, status.Error(codes.InvalidArgument, "mutable parameters are not supported (no MODIFY_VOLUME)")
	}
	if err := d.checkTopology(req.GetAccessibilityRequirements()); err != nil {
		return volumeRequest{}, err
	}
	switch src := req.GetVolumeContentSource().GetType().(type) {
	case nil:
	case *csi.VolumeContentSource_Snapshot:
		if !d.enabled(FeatureVolumeFromSnapshot) {
			return volumeRequest{}, status.Error(codes.InvalidArgument, "volumes from snapshots are not supported by this driver (disabled)")
		}
		if want.srcSnapshot = src.Snapshot.GetSnapshotId(); want.srcSnapshot == "" {
			return volumeRequest{}, status.Error(codes.InvalidArgument, "snapshot content source has no snapshot ID")
		}
	case *csi.VolumeContentSource_Volume:
		if want.srcVolume = src.Volume.GetVolumeId(); want.srcVolume == "" {
			return volumeRequest{}, status.Error(codes.InvalidArgument, "volume content source has no volume ID")
		}
	default:
		return volumeRequest{}, status.Error(codes.InvalidArgument, "unknown volume content source")
	}
	return want, nil
}

// volumePlan is a volume about to be built: its record, where its data
// comes from, and the capacity it reserves meanwhile.
type volumePlan struct {
	rec      *volumeRecord
	srcPath  string // data to copy; "" for an empty volume or a thin clone
	pinned   string // source ID pinned for the copy
	reserved int64
}

func (d *Driver) createVolume(ctx context.Context, want volumeRequest) (*volumeRecord, error) {
	plan, existing, err := d.planVolume(want)
	if err != nil || existing != nil {
		return existing, err
	}
	defer d.endPlan(plan)
	if err := d.buildVolume(plan); err != nil {
		return nil, internal(err)
	}
	if err := d.commitVolume(plan.rec); err != nil {
		return nil, err
	}
	d.log.InfoContext(ctx, "volume created", "volume", plan.rec.ID, "name", plan.rec.Name, "kind", plan.rec.Kind,
		"capacity", plan.rec.CapacityBytes, "sourceSnapshot", plan.rec.SourceSnapshot,
		"sourceVolume", plan.rec.SourceVolume, "sharedSnapshot", plan.rec.SharedSnapshot)
	return plan.rec, nil
}

// planVolume decides, under the lock, whether the request names an
// existing volume (idempotency) and otherwise what to build.
func (d *Driver) planVolume(want volumeRequest) (*volumePlan, *volumeRecord, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v := d.st.volumeByName(want.name); v != nil {
		if err := compatible(v, want); err != nil {
			return nil, nil, status.Errorf(codes.AlreadyExists, "volume %q exists as %s but %v", want.name, v.ID, err)
		}
		return nil, v, nil
	}
	rec := &volumeRecord{
		ID: newID(volumePrefix), Name: want.name, Kind: want.kind, Parameters: want.params,
		SourceSnapshot: want.srcSnapshot, SourceVolume: want.srcVolume, ReadOnly: want.readOnly,
		CreatedAt: time.Now().UTC(),
	}
	plan := &volumePlan{rec: rec}
	floor, err := d.planSource(plan)
	if err != nil {
		return nil, nil, err
	}
	if rec.CapacityBytes, err = chooseCapacity(want.required, want.limit, floor); err != nil {
		return nil, nil, err
	}
	if rec.SharedSnapshot != "" && rec.CapacityBytes != floor {
		// A thin clone cannot grow: copy instead.
		plan.srcPath = d.volumeData(rec)
		rec.SharedSnapshot = ""
	}
	if rec.SharedSnapshot == "" {
		if err := d.reserveLocked(rec.CapacityBytes); err != nil {
			return nil, nil, err
		}
		plan.reserved = rec.CapacityBytes
	}
	if plan.pinned != "" {
		d.pins[plan.pinned]++
	}
	return plan, nil, nil
}

// planSource looks up the content source and returns the smallest
// capacity the new volume may have.
func (d *Driver) planSource(plan *volumePlan) (floor int64, err error) {
	rec := plan.rec
	switch {
	case rec.SourceSnapshot != "":
		snap := d.st.liveSnapshot(rec.SourceSnapshot)
		if snap == nil {
			return 0, status.Errorf(codes.NotFound, "source snapshot %s does not exist", rec.SourceSnapshot)
		}
		if snap.Kind != rec.Kind {
			return 0, status.Errorf(codes.InvalidArgument, "source snapshot %s is of a %s volume; cannot restore it as %s", snap.ID, snap.Kind, rec.Kind)
		}
		plan.pinned = snap.ID
		if rec.ReadOnly {
			// Nobody will write to it: use the snapshot's data in place,
			// as an array's thin clone would, instead of copying it.
			rec.SharedSnapshot = snap.ID
		} else {
			plan.srcPath = d.lay.snapshotPath(snap.ID, snap.Kind)
		}
		return snap.SizeBytes, nil
	case rec.SourceVolume != "":
		src := d.st.Volumes[rec.SourceVolume]
		if src == nil {
			return 0, status.Errorf(codes.NotFound, "source volume %s does not exist", rec.SourceVolume)
		}
		if src.Kind != rec.Kind {
			return 0, status.Errorf(codes.InvalidArgument, "source volume %s is a %s volume; cannot clone it as %s", src.ID, src.Kind, rec.Kind)
		}
		plan.pinned, plan.srcPath = src.ID, d.volumeData(src)
		return src.CapacityBytes, nil
	}
	return 0, nil
}

func compatible(v *volumeRecord, want volumeRequest) error {
	switch {
	case v.Kind != want.kind:
		return fmt.Errorf("is a %s volume, not %s", v.Kind, want.kind)
	case v.CapacityBytes < want.required || (want.limit > 0 && v.CapacityBytes > want.limit):
		return fmt.Errorf("has %d bytes, outside the requested range %d-%d", v.CapacityBytes, want.required, want.limit)
	case !maps.Equal(v.Parameters, want.params):
		return errors.New("has different parameters")
	case v.SourceSnapshot != want.srcSnapshot || v.SourceVolume != want.srcVolume:
		return errors.New("has a different content source")
	case v.ReadOnly && !want.readOnly:
		return errors.New("was created for reader-only access modes")
	}
	return nil
}

// chooseCapacity picks a size in [required, limit] that is at least floor
// (the source's size), rounded up to sizeAlign where the limit allows.
func chooseCapacity(required, limit, floor int64) (int64, error) {
	need := max(required, floor)
	c := need
	if c == 0 {
		c = defaultVolumeSize
	}
	c = (c + sizeAlign - 1) / sizeAlign * sizeAlign
	if limit > 0 && c > limit {
		c = max(limit/sizeAlign*sizeAlign, need)
		if need == 0 && c == 0 {
			c = limit
		}
	}
	if limit > 0 && c > limit {
		return 0, status.Errorf(codes.OutOfRange, "the source holds %d bytes, more than the limit of %d", floor, limit)
	}
	return c, nil
}

// reserveLocked sets capacity aside for a volume being built.
func (d *Driver) reserveLocked(n int64) error {
	if d.cfg.Capacity > 0 {
		if used := d.st.usedCapacity() + d.reserved; used+n > d.cfg.Capacity {
			return status.Errorf(codes.ResourceExhausted, "volume of %d bytes does not fit: %d of the driver's %d bytes are in use", n, used, d.cfg.Capacity)
		}
	}
	d.reserved += n
	return nil
}

func (d *Driver) endPlan(plan *volumePlan) {
	if plan.pinned != "" {
		d.unpin(plan.pinned)
	}
	d.mu.Lock()
	d.reserved -= plan.reserved
	d.mu.Unlock()
}

// buildVolume makes the data under tmp/ and renames it into place, so a
// crash never leaves a half-built volume where a record could point.
func (d *Driver) buildVolume(plan *volumePlan) error {
	rec := plan.rec
	if rec.SharedSnapshot != "" {
		return nil
	}
	tmp := d.lay.tmpPath(dataName(rec.ID, rec.Kind))
	var err error
	if plan.srcPath == "" {
		err = createEmpty(tmp, rec.Kind, rec.CapacityBytes)
	} else {
		err = copyData(plan.srcPath, tmp, rec.Kind, rec.CapacityBytes)
	}
	if err == nil {
		err = os.Rename(tmp, d.lay.volumePath(rec.ID, rec.Kind))
	}
	if err == nil {
		err = syncDir(d.lay.volumesDir())
	}
	if err != nil {
		removeData(tmp)
		return fmt.Errorf("build volume %s: %w", rec.ID, err)
	}
	return nil
}

func (d *Driver) commitVolume(rec *volumeRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.st.Volumes[rec.ID] = rec
	if err := d.saveLocked(); err != nil {
		delete(d.st.Volumes, rec.ID)
		if rec.SharedSnapshot == "" {
			removeData(d.lay.volumePath(rec.ID, rec.Kind))
		}
		return internal(fmt.Errorf("record volume %s: %w", rec.ID, err))
	}
	return nil
}

func (d *Driver) csiVolume(v *volumeRecord) *csi.Volume {
	out := &csi.Volume{
		VolumeId:      v.ID,
		CapacityBytes: v.CapacityBytes,
		// The name is this driver's courtesy: ListVolumes then shows
		// which request made a volume, which a janitor looking for its
		// own leftovers needs. The spec's Volume has no name field.
		VolumeContext:      map[string]string{VolumeNameKey: v.Name},
		AccessibleTopology: d.topology(),
	}
	switch {
	case v.SourceSnapshot != "":
		out.ContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: v.SourceSnapshot}}}
	case v.SourceVolume != "":
		out.ContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Volume{
			Volume: &csi.VolumeContentSource_VolumeSource{VolumeId: v.SourceVolume}}}
	}
	return out
}

func (s *controllerServer) DeleteVolume(ctx context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID is missing")
	}
	v, garbage, err := s.d.forgetVolume(id)
	if err != nil || v == nil {
		return &csi.DeleteVolumeResponse{}, err // nil v: already gone, which is success
	}
	if v.Kind == kindBlock && v.SharedSnapshot == "" && s.d.useLoop {
		// No record owns a device any more, but a crash between attach and
		// record could have left one: never let a device outlive its image.
		if err := detachLoopsOf(s.d.volumeData(v)); err != nil {
			s.d.log.WarnContext(ctx, "detach loop devices of deleted volume", "volume", id, "error", err)
		}
	}
	for _, p := range garbage {
		if err := removeData(p); err != nil {
			// The record is gone; start-up removes the orphan.
			s.d.log.WarnContext(ctx, "remove data of deleted volume", "volume", id, "error", err)
		}
	}
	s.d.log.InfoContext(ctx, "volume deleted", "volume", id, "name", v.Name)
	return &csi.DeleteVolumeResponse{}, nil
}

// forgetVolume removes a volume's record and returns the data paths to
// delete: its own data, and that of a deleted snapshot it was the last
// thin clone of.
func (d *Driver) forgetVolume(id string) (*volumeRecord, []string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.st.Volumes[id]
	if v == nil {
		return nil, nil, nil
	}
	if d.pins[id] > 0 {
		return nil, nil, status.Errorf(codes.Aborted, "volume %s is being copied by a snapshot or clone in progress", id)
	}
	if users := d.usersOf(id); users != "" {
		return nil, nil, status.Errorf(codes.FailedPrecondition, "volume %s is in use on node %s: %s; unpublish and unstage it first", id, d.cfg.NodeID, users)
	}
	delete(d.st.Volumes, id)
	var garbage []string
	var snap *snapshotRecord
	if v.SharedSnapshot == "" {
		garbage = append(garbage, d.volumeData(v))
	} else if snap = d.st.Snapshots[v.SharedSnapshot]; snap != nil && snap.Deleted && d.st.sharers(snap.ID) == 0 {
		delete(d.st.Snapshots, snap.ID)
		garbage = append(garbage, d.lay.snapshotPath(snap.ID, snap.Kind), d.lay.blockMapPath(snap.ID))
	} else {
		snap = nil
	}
	if err := d.saveLocked(); err != nil {
		d.st.Volumes[id] = v
		if snap != nil {
			d.st.Snapshots[snap.ID] = snap
		}
		return nil, nil, internal(fmt.Errorf("record deletion of volume %s: %w", id, err))
	}
	return v, garbage, nil
}

// usersOf lists where a volume is staged or published, "" if nowhere.
func (d *Driver) usersOf(id string) string {
	var where []string
	for _, p := range d.st.publicationsOf(id) {
		where = append(where, "published at "+p.Target)
	}
	for _, s := range d.st.stagesOf(id) {
		where = append(where, "staged at "+s.Path)
	}
	return strings.Join(where, ", ")
}

func (s *controllerServer) ValidateVolumeCapabilities(ctx context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID is missing")
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume capabilities are missing")
	}
	s.d.mu.Lock()
	v := s.d.st.Volumes[req.GetVolumeId()]
	s.d.mu.Unlock()
	if v == nil {
		return nil, status.Errorf(codes.NotFound, "volume %s does not exist", req.GetVolumeId())
	}
	for _, c := range req.GetVolumeCapabilities() {
		ci, err := s.d.parseCapability(c)
		if err == nil {
			err = fitsVolume(ci, v)
		}
		if err != nil {
			return &csi.ValidateVolumeCapabilitiesResponse{Message: err.Error()}, nil
		}
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext:      req.GetVolumeContext(),
		VolumeCapabilities: req.GetVolumeCapabilities(),
		Parameters:         req.GetParameters(),
	}}, nil
}

func (s *controllerServer) ListVolumes(ctx context.Context, req *csi.ListVolumesRequest) (*csi.ListVolumesResponse, error) {
	tok := req.GetStartingToken()
	if tok != "" && !validID(volumePrefix, tok) {
		return nil, status.Errorf(codes.Aborted, "starting token %q was not issued by this driver", tok)
	}
	if req.GetMaxEntries() < 0 {
		return nil, status.Error(codes.InvalidArgument, "max entries is negative")
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	ids, next := page(sortedKeys(s.d.st.Volumes), tok, int(req.GetMaxEntries()))
	resp := &csi.ListVolumesResponse{NextToken: next}
	for _, id := range ids {
		resp.Entries = append(resp.Entries, &csi.ListVolumesResponse_Entry{Volume: s.d.csiVolume(s.d.st.Volumes[id])})
	}
	return resp, nil
}

// page returns the sorted IDs from the first one >= token, at most max of
// them (0: all), and the token of the next page. Using the next ID as the
// token keeps paging stable when entries are deleted between pages.
func page(ids []string, token string, max int) ([]string, string) {
	start := 0
	for start < len(ids) && ids[start] < token {
		start++
	}
	ids = ids[start:]
	if max > 0 && len(ids) > max {
		return ids[:max], ids[max]
	}
	return ids, ""
}

func (s *controllerServer) GetCapacity(ctx context.Context, req *csi.GetCapacityRequest) (*csi.GetCapacityResponse, error) {
	if t := req.GetAccessibleTopology(); t != nil && !s.d.topologyMatches(t) {
		return &csi.GetCapacityResponse{AvailableCapacity: 0}, nil
	}
	if len(req.GetVolumeCapabilities()) > 0 {
		if _, _, err := s.d.parseCapabilities(req.GetVolumeCapabilities()); err != nil {
			return &csi.GetCapacityResponse{AvailableCapacity: 0}, nil
		}
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(s.d.cfg.Root, &fs); err != nil {
		return nil, internal(fmt.Errorf("statfs %s: %w", s.d.cfg.Root, err))
	}
	avail := int64(fs.Bavail) * fs.Bsize
	if s.d.cfg.Capacity > 0 {
		s.d.mu.Lock()
		left := s.d.cfg.Capacity - s.d.st.usedCapacity() - s.d.reserved
		s.d.mu.Unlock()
		avail = max(min(avail, left), 0)
	}
	return &csi.GetCapacityResponse{AvailableCapacity: avail, MaximumVolumeSize: wrapperspb.Int64(avail)}, nil
}
