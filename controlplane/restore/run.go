package restore

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/restoreplan"
)

// run applies the prelude and volume stages and starts the volume work.
func (r *Reconciler) run(ctx context.Context, rs *v1alpha1.Restore) (ctrl.Result, error) {
	if ok, err := r.claim(ctx, rs); !ok {
		return ctrl.Result{}, err
	}
	b, err := r.backup(ctx, rs)
	if err != nil {
		return r.fail(ctx, rs, "BackupNotUsable", "%v", err)
	}
	plan, loc, err := r.plan(ctx, rs, b)
	if err != nil {
		return r.fail(ctx, rs, "PlanFailed", "%v", err)
	}
	for _, it := range append(plan.Skipped, plan.Failed...) {
		record(rs, it)
	}
	r.applyStage(ctx, rs, plan.Stage(restoreplan.StagePrelude), nil)
	work := volumeWork(rs, b, plan.Stage(restoreplan.StageVolumes), loc)
	r.applyStage(ctx, rs, plan.Stage(restoreplan.StageVolumes), work.skipPV)
	for i := range work.items {
		if err := r.createWork(ctx, rs, &work.items[i]); err != nil {
			rs.Status.Errors = appendCapped(rs.Status.Errors, err.Error())
		}
	}
	rs.Status.VolumesTotal = len(work.items)
	rs.Status.Phase = v1alpha1.RestoreWaitingForVolumes
	return ctrl.Result{RequeueAfter: r.cfg.PollInterval}, r.Client.Status().Update(ctx, rs)
}

// claim guards the phase against stale cache reads; see the Backup
// controller's claim.
func (r *Reconciler) claim(ctx context.Context, rs *v1alpha1.Restore) (bool, error) {
	meta.SetStatusCondition(&rs.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: "Running", ObservedGeneration: rs.Generation,
		Message: "restoring; phase " + string(rs.Status.Phase) + " started " + time.Now().UTC().Format(time.RFC3339Nano)})
	if err := r.Client.Status().Update(ctx, rs); err != nil {
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// plan loads the backup's objects from its repository and plans them.
func (r *Reconciler) plan(ctx context.Context, rs *v1alpha1.Restore, b *v1alpha1.Backup) (*restoreplan.Result, string, error) {
	locName := b.Spec.LocationName
	if locName == "" {
		locName = "default"
	}
	var loc v1alpha1.BackupLocation
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: rs.Namespace, Name: locName}, &loc); err != nil {
		return nil, "", fmt.Errorf("backup location %q of backup %s: %w", locName, b.Name, err)
	}
	rp, err := r.Opener.Open(ctx, &loc)
	if err != nil {
		return nil, "", fmt.Errorf("backup location %s: %w", locName, err)
	}
	items, err := collect.Load(ctx, rp, b.Status.ResourcesSnapshotID)
	if err != nil {
		return nil, "", fmt.Errorf("read backup %s from location %s: %w", b.Name, locName, err)
	}
	objs := make([]restoreplan.Object, len(items))
	for i, it := range items {
		objs[i] = restoreplan.Object{GroupResource: it.GroupResource, Namespaced: it.Namespaced, Object: it.Object}
	}
	plan, err := restoreplan.Plan(objs, rs.Spec)
	return plan, locName, err
}

// applyStage applies items in order, recording each result. Items for
// which skip returns a reason are recorded as skipped instead.
func (r *Reconciler) applyStage(ctx context.Context, rs *v1alpha1.Restore, items []restoreplan.Item, skip func(restoreplan.Item) string) {
	deps := restoreplan.Deps{Dynamic: r.Dynamic}
	policy := rs.Spec.ExistingResourcePolicy
	if policy == "" {
		policy = v1alpha1.ExistingNone
	}
	for _, it := range items {
		if skip != nil {
			if why := skip(it); why != "" {
				record(rs, it.RestoreItem(v1alpha1.ItemSkipped, why))
				continue
			}
		}
		res, _ := restoreplan.Apply(ctx, deps, it, policy)
		record(rs, res)
	}
}

// record adds one item result to the status, failures first, bounded.
func record(rs *v1alpha1.Restore, it v1alpha1.RestoreItem) {
	c := &rs.Status.Counts
	switch it.Result {
	case v1alpha1.ItemCreated:
		c.Created++
	case v1alpha1.ItemUpdated:
		c.Updated++
	case v1alpha1.ItemSkipped:
		c.Skipped++
	case v1alpha1.ItemFailed:
		c.Failed++
		rs.Status.Errors = appendCapped(rs.Status.Errors, it.Resource+" "+it.Namespace+"/"+it.Name+": "+it.Message)
	}
	if len(rs.Status.Items) >= v1alpha1.MaxRestoreItems {
		return
	}
	if it.Result == v1alpha1.ItemFailed {
		rs.Status.Items = append([]v1alpha1.RestoreItem{it}, rs.Status.Items...)
		return
	}
	rs.Status.Items = append(rs.Status.Items, it)
}

func appendCapped(list []string, msg string) []string {
	if len(list) >= maxMessages {
		return list
	}
	return append(list, msg)
}
