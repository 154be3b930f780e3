package backup

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// parentSnapshot finds the newest completed snapshot of the same PVC in the
// same location, so the agent can back up incrementally.
func (r *Reconciler) parentSnapshot(ctx context.Context, ns, pvcUID, loc string) string {
	var vbs v1alpha1.VolumeBackupList
	if err := r.Client.List(ctx, &vbs, client.InNamespace(ns), client.MatchingLabels{labelPVCUID: pvcUID}); err != nil {
		return ""
	}
	var best *v1alpha1.VolumeBackup
	for i := range vbs.Items {
		vb := &vbs.Items[i]
		if vb.Status.Phase != v1alpha1.WorkCompleted || vb.Spec.LocationName != loc || vb.Status.SnapshotID == "" {
			continue
		}
		if best == nil || completed(vb).After(completed(best)) {
			best = vb
		}
	}
	if best == nil {
		return ""
	}
	return best.Status.SnapshotID
}

func completed(vb *v1alpha1.VolumeBackup) time.Time {
	if vb.Status.CompletionTime == nil {
		return time.Time{}
	}
	return vb.Status.CompletionTime.Time
}
