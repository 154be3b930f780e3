package backup

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// createWork creates a work item owned by its Backup. An item that already
// exists (a phase re-run after a restart) is kept.
func (r *Reconciler) createWork(ctx context.Context, vb *v1alpha1.VolumeBackup) error {
	var owner v1alpha1.Backup
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: vb.Namespace, Name: vb.Spec.BackupName}, &owner); err != nil {
		return fmt.Errorf("create work item %s: read backup: %w", vb.Name, err)
	}
	if err := controllerutil.SetControllerReference(&owner, vb, r.Client.Scheme()); err != nil {
		return fmt.Errorf("create work item %s: %w", vb.Name, err)
	}
	if err := r.Client.Create(ctx, vb); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create work item %s for PVC %s/%s: %w", vb.Name, vb.Spec.Volume.PVC.Namespace, vb.Spec.Volume.PVC.Name, err)
	}
	return nil
}

// workItems lists a backup's work items.
func (r *Reconciler) workItems(ctx context.Context, b *v1alpha1.Backup) ([]v1alpha1.VolumeBackup, error) {
	var list v1alpha1.VolumeBackupList
	err := r.Client.List(ctx, &list, client.InNamespace(b.Namespace), client.MatchingLabels{v1alpha1.LabelBackup: b.Name})
	if err != nil {
		return nil, fmt.Errorf("list work items of backup %s: %w", b.Name, err)
	}
	return list.Items, nil
}

// snapshotCut reports whether an agent has cut the item's snapshot, or the
// item has ended (either way, the freeze is no longer needed for it).
func snapshotCut(vb *v1alpha1.VolumeBackup) bool {
	return vb.Status.Phase.Done() || meta.IsStatusConditionTrue(vb.Status.Conditions, v1alpha1.ConditionSnapshotTaken)
}

// waitSnapshots polls until every work item in want has cut its snapshot.
// An item not yet visible (the cache lags the create) counts as not cut.
func (r *Reconciler) waitSnapshots(ctx context.Context, b *v1alpha1.Backup, want []v1alpha1.VolumeBackup) error {
	every := min(r.cfg.PollInterval, time.Second)
	for {
		items, err := r.workItems(ctx, b)
		if err != nil {
			return err
		}
		cut := map[string]bool{}
		for i := range items {
			cut[items[i].Name] = snapshotCut(&items[i])
		}
		var waiting []string
		for _, w := range want {
			if !cut[w.Name] {
				waiting = append(waiting, w.Spec.Volume.PVC.Namespace+"/"+w.Spec.Volume.PVC.Name)
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("snapshots of %s were not cut within %s; the application was thawed anyway, check the node agents on their nodes",
				summary(waiting), r.cfg.SnapshotTimeout)
		case <-time.After(every):
		}
	}
}

// cancelWork marks a failed backup's unfinished work items Canceled, so
// agents stop and release their snapshots.
func (r *Reconciler) cancelWork(ctx context.Context, b *v1alpha1.Backup) {
	_, _ = r.stopWork(ctx, b, "the backup failed: "+firstOr(b.Status.Errors, "canceled"))
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[len(list)-1]
	}
	return def
}
