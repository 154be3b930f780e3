package backup

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// cancelRequested reports whether a user asked to stop the backup.
func cancelRequested(b *v1alpha1.Backup) bool {
	return b.Annotations[v1alpha1.AnnotationCancel] != "" && !b.Status.Phase.Done()
}

// cancel stops a backup a user canceled: its unfinished work items become
// Canceled, so agents stop and release their snapshots, and the backup
// ends Failed. No manifest is written; the resources snapshot, if stored,
// is forgotten when the Backup is deleted.
func (r *Reconciler) cancel(ctx context.Context, b *v1alpha1.Backup) (ctrl.Result, error) {
	msg := "canceled by user"
	if at := b.Annotations[v1alpha1.AnnotationCancel]; at != "" {
		msg += " (requested " + at + ")"
	}
	// Aggregate what was just written: the cache may not show it yet.
	if items, err := r.stopWork(ctx, b, "the backup was "+msg); err == nil {
		aggregate(b, items)
	}
	return r.fail(ctx, b, "Canceled", "backup %s was %s; delete it with `cairn backup delete %s`, or back up again",
		b.Name, msg, b.Name)
}

// stopWork marks the backup's unfinished work items Canceled with msg and
// returns every item as it now is.
func (r *Reconciler) stopWork(ctx context.Context, b *v1alpha1.Backup, msg string) ([]v1alpha1.VolumeBackup, error) {
	items, err := r.workItems(ctx, b)
	if err != nil {
		return nil, err
	}
	for i := range items {
		vb := &items[i]
		if vb.Status.Phase.Done() {
			continue
		}
		vb.Status.Phase = v1alpha1.WorkCanceled
		vb.Status.Message = msg
		if err := r.Client.Status().Update(ctx, vb); err != nil {
			r.event(b, "Warning", "CancelWorkFailed", fmt.Sprintf("mark work item %s Canceled: %v", vb.Name, err))
		}
	}
	return items, nil
}
