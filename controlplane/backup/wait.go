package backup

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/manifest"
	"github.com/cairnbackup/cairn/controlplane/metrics"
)

// wait aggregates the work items' progress and finishes the backup once
// every item has ended.
func (r *Reconciler) wait(ctx context.Context, b *v1alpha1.Backup) (ctrl.Result, error) {
	items, err := r.workItems(ctx, b)
	if err != nil {
		return ctrl.Result{}, err
	}
	done := aggregate(b, items)
	if !done {
		return ctrl.Result{RequeueAfter: r.cfg.PollInterval}, r.Client.Status().Update(ctx, b)
	}
	return r.finish(ctx, b)
}

// aggregate copies work-item progress into the backup's status and reports
// whether every item has ended.
func aggregate(b *v1alpha1.Backup, items []v1alpha1.VolumeBackup) bool {
	var p v1alpha1.Progress
	completed, failed, done := 0, 0, true
	byPVC := map[v1alpha1.ObjectRef]*v1alpha1.VolumeBackup{}
	for i := range items {
		vb := &items[i]
		byPVC[vb.Spec.Volume.PVC] = vb
		p.BytesDone += vb.Status.Progress.BytesDone
		p.BytesTotal += vb.Status.Progress.BytesTotal
		p.BytesPerSecond += vb.Status.Progress.BytesPerSecond
		switch vb.Status.Phase {
		case v1alpha1.WorkCompleted:
			completed++
		case v1alpha1.WorkFailed, v1alpha1.WorkCanceled:
			failed++
		default:
			done = false
		}
	}
	for i := range b.Status.VolumeSnapshots {
		rec := &b.Status.VolumeSnapshots[i]
		if vb, ok := byPVC[rec.PVC]; ok {
			rec.Phase, rec.SnapshotID, rec.Bytes = vb.Status.Phase, vb.Status.SnapshotID, vb.Status.Progress.BytesDone
		}
	}
	b.Status.Progress, b.Status.VolumesCompleted, b.Status.VolumesFailed = p, completed, failed
	return done
}

// finish writes the manifest and ends the backup.
func (r *Reconciler) finish(ctx context.Context, b *v1alpha1.Backup) (ctrl.Result, error) {
	for _, rec := range b.Status.VolumeSnapshots {
		if rec.Phase == v1alpha1.WorkFailed || rec.Phase == v1alpha1.WorkCanceled {
			b.Status.Errors = appendCapped(b.Status.Errors, fmt.Sprintf("volume %s/%s was not backed up", rec.PVC.Namespace, rec.PVC.Name))
		}
	}
	phase := v1alpha1.BackupCompleted
	if b.Status.VolumesFailed > 0 || len(b.Status.Errors) > 0 || countFailed(b) > 0 {
		phase = v1alpha1.BackupPartiallyFailed
	}
	now := metav1.NewTime(r.Clock.Now())
	b.Status.Phase, b.Status.CompletionTime = phase, &now
	if err := r.saveManifest(ctx, b); err != nil {
		return r.fail(ctx, b, "ManifestFailed", "write the backup manifest: %v", err)
	}
	msg := fmt.Sprintf("%d API objects and %d of %d volumes backed up (%d bytes)",
		b.Status.ItemsBackedUp, b.Status.VolumesCompleted, b.Status.VolumesTotal, b.Status.Progress.BytesDone)
	status := metav1.ConditionTrue
	if phase != v1alpha1.BackupCompleted {
		status = metav1.ConditionFalse
	}
	meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
		Status: status, Reason: string(phase), Message: msg, ObservedGeneration: b.Generation})
	r.event(b, "Normal", string(phase), msg)
	metrics.BackupFinished(phase, now.Sub(b.Status.StartTime.Time), b.Status.Progress.BytesDone, int64(b.Status.ItemsBackedUp))
	return ctrl.Result{}, r.Client.Status().Update(ctx, b)
}

func countFailed(b *v1alpha1.Backup) int {
	n := 0
	for _, rec := range b.Status.VolumeSnapshots {
		if rec.Phase == v1alpha1.WorkFailed {
			n++
		}
	}
	return n
}

// saveManifest records the backup in its repository, for the sync
// controller of other clusters and for the CLI.
func (r *Reconciler) saveManifest(ctx context.Context, b *v1alpha1.Backup) error {
	loc, err := r.location(ctx, b)
	if err != nil {
		return err
	}
	rp, err := r.Opener.Open(ctx, loc)
	if err != nil {
		return err
	}
	m := &manifest.Manifest{BackupName: b.Name, BackupNamespace: b.Namespace, Spec: b.Spec, Status: b.Status,
		Created: r.Clock.Now(), Log: backupLog(b)}
	id, err := manifest.Save(ctx, rp, m)
	if err != nil {
		return err
	}
	b.Status.ManifestID = id.String()
	return nil
}

// backupLog is the backup's log as stored with its manifest: what was
// saved and every warning and error, one line each.
func backupLog(b *v1alpha1.Backup) []string {
	log := []string{fmt.Sprintf("backup %s/%s: %d API objects in snapshot %s", b.Namespace, b.Name,
		b.Status.ItemsBackedUp, b.Status.ResourcesSnapshotID)}
	for _, v := range b.Status.VolumeSnapshots {
		log = append(log, fmt.Sprintf("volume %s/%s: %s via %s, snapshot %s, %d bytes",
			v.PVC.Namespace, v.PVC.Name, v.Phase, v.DataPath, v.SnapshotID, v.Bytes))
	}
	for _, w := range b.Status.Warnings {
		log = append(log, "warning: "+w)
	}
	for _, e := range b.Status.Errors {
		log = append(log, "error: "+e)
	}
	return log
}
