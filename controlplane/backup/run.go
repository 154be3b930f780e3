package backup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/collect"
)

// run stores the API objects, then runs the freeze window: pre-hooks, work
// items until their snapshots are cut, post-hooks.
func (r *Reconciler) run(ctx context.Context, b *v1alpha1.Backup) (ctrl.Result, error) {
	if ok, err := r.claim(ctx, b); !ok {
		return ctrl.Result{}, err
	}
	loc, err := r.location(ctx, b)
	if err != nil {
		return r.fail(ctx, b, "LocationNotUsable", "%v", err)
	}
	rp, err := r.Opener.Open(ctx, loc)
	if err != nil {
		return r.fail(ctx, b, "LocationUnavailable", "backup location %s: %v", loc.Name, err)
	}
	res, err := r.Collector.Collect(ctx, b.Spec)
	if err != nil {
		return r.fail(ctx, b, "CollectFailed", "collect API objects: %v", err)
	}
	snapID, err := collect.Store(ctx, rp, res.Items, collect.StoreOptions{
		Hostname: "cluster", Tags: []string{"cairn.dev/backup=" + b.Namespace + "/" + b.Name, "cairn.dev/kind=resources"}})
	if err != nil {
		return r.fail(ctx, b, "StoreFailed", "store API objects in location %s: %v", loc.Name, err)
	}
	b.Status.ItemsBackedUp = len(res.Items)
	b.Status.ResourcesSnapshotID = snapID
	for _, w := range res.Warnings {
		b.Status.Warnings = appendCapped(b.Status.Warnings, w)
	}
	plan := r.planVolumes(ctx, b, res.Items, loc.Name)
	b.Status.VolumeSnapshots = plan.records
	for _, w := range plan.problems {
		b.Status.Warnings = appendCapped(b.Status.Warnings, w)
	}
	b.Status.VolumesTotal = len(plan.items)
	warnings, err := r.Freezer.Freeze(ctx, b, func(ctx context.Context) error {
		return r.snapshotVolumes(ctx, b, plan.items)
	})
	for _, w := range warnings {
		b.Status.Warnings = appendCapped(b.Status.Warnings, w)
	}
	if err != nil {
		r.cancelWork(ctx, b)
		return r.fail(ctx, b, "HookFailed", "%v", err)
	}
	b.Status.Phase = v1alpha1.BackupWaitingForVolumes
	meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionHooksRun,
		Status: metav1.ConditionTrue, Reason: "FreezeWindowClosed", ObservedGeneration: b.Generation,
		Message: fmt.Sprintf("%d API objects stored; %d volumes snapshotting or moving", len(res.Items), len(plan.items))})
	return ctrl.Result{RequeueAfter: r.cfg.PollInterval}, r.Client.Status().Update(ctx, b)
}

// claim records that this reconcile runs the backup. The write is checked
// against the object's resourceVersion, so a reconcile that read a stale
// copy from the cache (the phase already moved on) gets a conflict and runs
// no hook twice.
func (r *Reconciler) claim(ctx context.Context, b *v1alpha1.Backup) (bool, error) {
	meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionHooksRun,
		Status: metav1.ConditionUnknown, Reason: "Running", ObservedGeneration: b.Generation,
		Message: "storing API objects, then running the freeze window; started " + r.Clock.Now().UTC().Format(time.RFC3339Nano)})
	if err := r.Client.Status().Update(ctx, b); err != nil {
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// snapshotVolumes creates the work items and waits until each has cut its
// snapshot (SnapshotTaken) or ended, bounded by the snapshot timeout.
func (r *Reconciler) snapshotVolumes(ctx context.Context, b *v1alpha1.Backup, items []v1alpha1.VolumeBackup) error {
	for i := range items {
		if err := r.createWork(ctx, &items[i]); err != nil {
			return err
		}
	}
	if len(items) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.SnapshotTimeout)
	defer cancel()
	if err := r.waitSnapshots(ctx, b, items); err != nil {
		// Not fatal: the items go on with crash-consistent snapshots.
		b.Status.Warnings = appendCapped(b.Status.Warnings, err.Error())
	}
	return nil
}

// summary lists names for messages, shortened for long lists.
func summary(names []string) string {
	slices.Sort(names)
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return strings.Join(names, ", ")
}
