package nodeagent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// janitor removes what killed or failed runs left behind. Its first sweep
// runs before any item starts (the reconcilers wait for it), so it never
// tears down the mounts of an item this process is running.
type janitor struct {
	a *Agent
}

// Start sweeps at once, opens the gate for the reconcilers, then sweeps
// every JanitorInterval until ctx ends.
func (j *janitor) Start(ctx context.Context) error {
	j.a.sweep(ctx)
	close(j.a.swept)
	t := time.NewTicker(j.a.cfg.JanitorInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			j.a.sweep(ctx)
		}
	}
}

// sweep handles every journal record whose item does not run here, and
// mount directories no record names.
func (a *Agent) sweep(ctx context.Context) {
	recs, problems := a.journal.all()
	for _, p := range problems {
		a.cfg.Logger.Warn("janitor", "err", p)
	}
	named := map[string]bool{}
	for _, r := range recs {
		named[r.UID] = true
		if a.runner.isRunning(itemKey{kind: r.Kind, uid: uidOf(r.UID)}) {
			continue
		}
		if err := a.sweepRecord(ctx, r); err != nil {
			a.metrics.errors.WithLabelValues("cleanup").Inc()
			a.cfg.Logger.Warn("janitor: leftover not removed yet", "item", r.Kind+"/"+r.Name, "err", err)
		}
	}
	a.sweepMountDirs(named)
}

// sweepRecord cleans up one record. A backup that will be resumed keeps
// its snapshot: the controller already thawed the application after it
// was cut, so the resumed run must read that same point in time.
func (a *Agent) sweepRecord(ctx context.Context, r *record) error {
	if r.Kind == kindBase {
		return a.sweepBase(ctx, r)
	}
	dr, err := a.drivers.get(ctx, r.Driver)
	if err != nil {
		if r.Driver == "" {
			return a.journal.drop(r.Kind, r.UID)
		}
		return fmt.Errorf("%w: %v", errNoDriver, err)
	}
	resumes, err := a.willResume(ctx, r)
	if err != nil {
		return err
	}
	sec, err := a.recordSecrets(ctx, r)
	if err != nil {
		return err
	}
	if err := a.teardown(ctx, dr, r, sec, resumes); err != nil {
		return err
	}
	if resumes && r.SnapshotID != "" {
		r.VolumeID, r.VolumeName, r.Staging, r.Target = "", "", "", ""
		return a.journal.put(r)
	}
	return a.journal.drop(r.Kind, r.UID)
}

// willResume reports whether a backup record's item is still to be run
// and its snapshot was cut (so it must be kept).
func (a *Agent) willResume(ctx context.Context, r *record) (bool, error) {
	if r.Kind != kindBackup {
		return false, nil
	}
	var vb v1alpha1.VolumeBackup
	err := a.reader.Get(ctx, objectKey(r.Namespace, r.Name), &vb)
	if apierrors.IsNotFound(err) || (err == nil && string(vb.UID) != r.UID) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read work item %s: %w", r.Name, err)
	}
	return !vb.Status.Phase.Done() && vb.DeletionTimestamp == nil &&
		meta.IsStatusConditionTrue(vb.Status.Conditions, v1alpha1.ConditionSnapshotTaken), nil
}

// sweepBase deletes a kept base snapshot once no backup can build on it:
// its backup is gone, or a newer completed backup of the same claim has
// another base.
func (a *Agent) sweepBase(ctx context.Context, r *record) error {
	needed, err := a.baseNeeded(ctx, r)
	if err != nil || needed {
		return err
	}
	dr, err := a.drivers.get(ctx, r.Driver)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoDriver, err)
	}
	sec, err := a.recordSecrets(ctx, r)
	if err != nil {
		return err
	}
	if err := dr.snaps.Delete(ctx, r.SnapshotID, sec.snapshotter); err != nil {
		return err
	}
	return a.journal.drop(kindBase, r.UID)
}

func (a *Agent) baseNeeded(ctx context.Context, r *record) (bool, error) {
	var vb v1alpha1.VolumeBackup
	err := a.reader.Get(ctx, objectKey(r.Namespace, r.Name), &vb)
	if apierrors.IsNotFound(err) || (err == nil && string(vb.UID) != r.UID) {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("read work item %s: %w", r.Name, err)
	}
	if r.PVCUID == "" {
		return true, nil
	}
	var list v1alpha1.VolumeBackupList
	if err := a.reader.List(ctx, &list, client.InNamespace(r.Namespace), client.MatchingLabels{labelPVCUID: r.PVCUID}); err != nil {
		return true, fmt.Errorf("list backups of claim %s: %w", r.PVCUID, err)
	}
	for _, other := range list.Items {
		if other.Status.Phase == v1alpha1.WorkCompleted && other.Status.CSISnapshotID != "" &&
			other.Status.CSISnapshotID != r.SnapshotID && newer(&other, &vb) {
			return false, nil
		}
	}
	return true, nil
}

// newer reports whether backup a of a claim came after b: a was built on
// the snapshot b wrote (an incremental with b as parent), or it completed
// later. Completion times have one-second resolution, so a full backup
// and the incremental after it can tie; the parent link orders those.
func newer(a, b *v1alpha1.VolumeBackup) bool {
	switch {
	case b.Status.SnapshotID != "" && a.Spec.ParentSnapshotID == b.Status.SnapshotID:
		return true
	case a.Status.SnapshotID != "" && b.Spec.ParentSnapshotID == a.Status.SnapshotID:
		return false
	}
	return a.Status.CompletionTime != nil && b.Status.CompletionTime != nil && a.Status.CompletionTime.After(b.Status.CompletionTime.Time)
}

// sweepMountDirs removes item mount directories no record names (their
// record was lost, or the item finished but its directory was not removed).
func (a *Agent) sweepMountDirs(named map[string]bool) {
	dirs, _ := filepath.Glob(filepath.Join(a.cfg.StateDir, "mounts", "*"))
	for _, d := range dirs {
		uid := filepath.Base(d)
		if named[uid] || a.runningUID(uid) {
			continue
		}
		if err := removeMountDir(d); err != nil {
			a.cfg.Logger.Warn("janitor: leftover mount directory not removed", "dir", d, "err", err)
		}
	}
	_ = os.MkdirAll(filepath.Join(a.cfg.StateDir, "mounts"), 0o700)
}

func (a *Agent) runningUID(uid string) bool {
	return a.runner.isRunning(itemKey{kind: kindBackup, uid: uidOf(uid)}) || a.runner.isRunning(itemKey{kind: kindRestore, uid: uidOf(uid)})
}

// recordSecrets reads again the CSI secrets of a record's volume.
func (a *Agent) recordSecrets(ctx context.Context, r *record) (volumeSecrets, error) {
	sc, err := a.storageClass(ctx, r.StorageClass)
	if err != nil {
		return volumeSecrets{}, err
	}
	return a.secretsFor(ctx, r.Volume, sc)
}
