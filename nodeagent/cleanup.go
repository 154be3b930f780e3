package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairnbackup/cairn/csi"
)

// cleanupTimeout bounds the teardown of one item. It runs on a context of
// its own: a canceled item must still release its mounts and volumes.
const cleanupTimeout = 5 * time.Minute

// cleanup undoes what an item created, in reverse order: unpublish and
// unstage, delete the temporary volume, delete the snapshot unless it is
// kept as the next incremental's base. Whatever cannot be removed stays
// in the journal for the janitor, with a warning.
func (a *Agent) cleanup(w *work, dr *driver, sec volumeSecrets, keepSnapshot bool) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := a.teardownRetrying(ctx, dr, w.rec, sec, keepSnapshot); err != nil {
		a.metrics.errors.WithLabelValues("cleanup").Inc()
		w.warn(fmt.Sprintf("cleanup incomplete, the agent retries it later: %v", err))
		return
	}
	if keepSnapshot {
		base := &record{Kind: kindBase, UID: w.rec.UID, Namespace: w.rec.Namespace, Name: w.rec.Name,
			Driver: dr.name, SnapshotID: w.rec.SnapshotID, PVCUID: w.obj.GetLabels()[labelPVCUID],
			StorageClass: w.rec.StorageClass, Volume: w.rec.Volume}
		if err := a.journal.put(base); err != nil {
			w.warn(fmt.Sprintf("base snapshot %s not recorded: %v", base.SnapshotID, err))
		}
	}
	if err := a.journal.drop(w.rec.Kind, w.rec.UID); err != nil {
		w.warn(fmt.Sprintf("journal record not removed: %v", err))
	}
}

// teardownRetrying retries a failed teardown a few times: a device can
// stay busy for a moment after its last reader closed it.
func (a *Agent) teardownRetrying(ctx context.Context, dr *driver, rec *record, sec volumeSecrets, keepSnapshot bool) error {
	var err error
	for wait := time.Second; ; wait *= 2 {
		if err = a.teardown(ctx, dr, rec, sec, keepSnapshot); err == nil || wait > 8*time.Second {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// labelPVCUID is the controller's label tying backups of one claim.
const labelPVCUID = "cairn.dev/pvc-uid"

// teardown removes what rec names, stopping at the first failure so that
// nothing is deleted while still mounted.
func (a *Agent) teardown(ctx context.Context, dr *driver, rec *record, sec volumeSecrets, keepSnapshot bool) error {
	if err := a.unpublish(ctx, dr, rec); err != nil {
		return err
	}
	if rec.VolumeID != "" && !rec.KeepVolume {
		if err := dr.controller.DeleteVolume(ctx, rec.VolumeID, sec.provisioner); err != nil {
			return fmt.Errorf("delete volume %s: %w", rec.VolumeID, err)
		}
		rec.VolumeID = ""
	}
	if rec.SnapshotID != "" && !keepSnapshot {
		if err := dr.snaps.Delete(ctx, rec.SnapshotID, sec.snapshotter); err != nil {
			return fmt.Errorf("delete snapshot %s: %w", rec.SnapshotID, err)
		}
		rec.SnapshotID = ""
	}
	return nil
}

// replaceBase deletes the base snapshot this backup supersedes: the
// parent's, now that this backup's snapshot is the base of the next one.
func (a *Agent) replaceBase(ctx context.Context, j *backupJob, dr *driver, snap csi.Snapshot, sec volumeSecrets) {
	if j.parent == nil || tagValue(j.parent, tagCSIDriver) != dr.name {
		return
	}
	old := tagValue(j.parent, tagCSISnapshot)
	if old == "" || old == snap.ID {
		return
	}
	if err := dr.snaps.Delete(ctx, old, sec.snapshotter); err != nil {
		j.w.warn(fmt.Sprintf("the superseded base snapshot %s was not deleted (the janitor retries): %v", old, err))
		return
	}
	a.dropBaseRecord(old)
}

// dropBaseRecord forgets a base snapshot this node recorded, if any.
func (a *Agent) dropBaseRecord(snapshotID string) {
	recs, _ := a.journal.all()
	for _, r := range recs {
		if r.Kind == kindBase && r.SnapshotID == snapshotID {
			_ = a.journal.drop(kindBase, r.UID)
		}
	}
}

// errNoDriver is a record's driver being unknown to this agent now.
var errNoDriver = errors.New("driver unavailable")
