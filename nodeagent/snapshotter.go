package nodeagent

import (
	"context"
	"time"

	"github.com/cairnbackup/cairn/csi"
)

// Snapshotter cuts and removes a volume's point-in-time snapshots. The
// agent cuts them through the driver's controller service (csiSnapshotter);
// a provider that goes through the Kubernetes VolumeSnapshot API instead
// (for drivers whose controller service the agent cannot reach) would
// implement the same four calls.
type Snapshotter interface {
	// Cut makes the named snapshot, or returns the one made before under
	// that name.
	Cut(ctx context.Context, r csi.SnapshotRequest) (csi.Snapshot, error)
	// WaitReady returns once the snapshot can be read through a volume.
	WaitReady(ctx context.Context, s csi.Snapshot, secrets map[string]string) (csi.Snapshot, error)
	// Exists reports whether the snapshot is still there.
	Exists(ctx context.Context, id string, secrets map[string]string) (bool, error)
	// Delete removes the snapshot; a missing one is not an error.
	Delete(ctx context.Context, id string, secrets map[string]string) error
}

// csiSnapshotter cuts snapshots with the driver's CreateSnapshot.
type csiSnapshotter struct{ conn *csi.Conn }

var _ Snapshotter = csiSnapshotter{}

func (s csiSnapshotter) Cut(ctx context.Context, r csi.SnapshotRequest) (csi.Snapshot, error) {
	return s.conn.CreateSnapshot(ctx, r)
}

// readyPoll is how often a snapshot not yet ready is looked at again.
const readyPoll = time.Second

func (s csiSnapshotter) WaitReady(ctx context.Context, snap csi.Snapshot, secrets map[string]string) (csi.Snapshot, error) {
	return s.conn.WaitSnapshotReady(ctx, snap, secrets, readyPoll)
}

func (s csiSnapshotter) Exists(ctx context.Context, id string, secrets map[string]string) (bool, error) {
	list, err := s.conn.ListSnapshots(ctx, csi.SnapshotFilter{SnapshotID: id, Secrets: secrets})
	if csi.IsNotFound(err) {
		return false, nil
	}
	return len(list) > 0, err
}

func (s csiSnapshotter) Delete(ctx context.Context, id string, secrets map[string]string) error {
	return s.conn.DeleteSnapshot(ctx, id, secrets)
}
