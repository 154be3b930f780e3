package restore

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/hooks"
	"github.com/cairnbackup/cairn/controlplane/metrics"
	"github.com/cairnbackup/cairn/controlplane/restoreplan"
)

// wait follows the volume work; when it has ended, restores the workloads.
func (r *Reconciler) wait(ctx context.Context, rs *v1alpha1.Restore) (ctrl.Result, error) {
	var list v1alpha1.VolumeRestoreList
	if err := r.Client.List(ctx, &list, client.InNamespace(rs.Namespace), client.MatchingLabels{v1alpha1.LabelRestore: rs.Name}); err != nil {
		return ctrl.Result{}, err
	}
	if !aggregate(rs, list.Items) {
		return ctrl.Result{RequeueAfter: r.cfg.PollInterval}, r.Client.Status().Update(ctx, rs)
	}
	if ok, err := r.claim(ctx, rs); !ok {
		return ctrl.Result{}, err
	}
	b, err := r.backup(ctx, rs)
	if err != nil {
		return r.fail(ctx, rs, "BackupNotUsable", "%v", err)
	}
	plan, _, err := r.plan(ctx, rs, b)
	if err != nil {
		return r.fail(ctx, rs, "PlanFailed", "%v", err)
	}
	workloads := plan.Stage(restoreplan.StageWorkloads)
	r.applyStage(ctx, rs, workloads, nil)
	r.runHooks(ctx, rs, workloads)
	return r.finish(ctx, rs)
}

// aggregate copies work progress into the status; it reports whether all
// items have ended.
func aggregate(rs *v1alpha1.Restore, items []v1alpha1.VolumeRestore) bool {
	var p v1alpha1.Progress
	completed, failed, done := 0, 0, len(items) >= rs.Status.VolumesTotal
	for _, vr := range items {
		p.BytesDone += vr.Status.Progress.BytesDone
		p.BytesTotal += vr.Status.Progress.BytesTotal
		p.BytesPerSecond += vr.Status.Progress.BytesPerSecond
		switch vr.Status.Phase {
		case v1alpha1.WorkCompleted:
			completed++
		case v1alpha1.WorkFailed, v1alpha1.WorkCanceled:
			failed++
			msg := fmt.Sprintf("volume %s/%s: %s", vr.Spec.Target.PVC.Namespace, vr.Spec.Target.PVC.Name, vr.Status.Message)
			if !slices.Contains(rs.Status.Errors, msg) { // aggregate runs at every poll
				rs.Status.Errors = appendCapped(rs.Status.Errors, msg)
			}
		default:
			done = false
		}
	}
	rs.Status.Progress, rs.Status.VolumesCompleted, rs.Status.VolumesFailed = p, completed, failed
	return done
}

// runHooks runs post-restore exec hooks on the restored pods.
func (r *Reconciler) runHooks(ctx context.Context, rs *v1alpha1.Restore, workloads []restoreplan.Item) {
	if len(rs.Spec.Hooks) == 0 || r.Hooks == nil {
		return
	}
	var pods []corev1.Pod
	for _, it := range workloads {
		if it.GroupResource.Resource != "pods" || it.GroupResource.Group != "" {
			continue
		}
		var p corev1.Pod
		if runtime.DefaultUnstructuredConverter.FromUnstructured(it.Object.Object, &p) == nil {
			pods = append(pods, p)
		}
	}
	out, err := r.Hooks.RunRestoreExec(ctx, hooks.ClientPods{Reader: r.Client}, pods, rs.Spec.Hooks)
	if err != nil {
		rs.Status.Errors = appendCapped(rs.Status.Errors, "restore hooks: "+err.Error())
		return
	}
	for _, m := range out.Messages() {
		rs.Status.Warnings = appendCapped(rs.Status.Warnings, m)
	}
}

// finish ends the restore.
func (r *Reconciler) finish(ctx context.Context, rs *v1alpha1.Restore) (ctrl.Result, error) {
	phase := v1alpha1.RestoreCompleted
	if rs.Status.Counts.Failed > 0 || rs.Status.VolumesFailed > 0 || len(rs.Status.Errors) > 0 {
		phase = v1alpha1.RestorePartiallyFailed
	}
	now := metav1.Now()
	rs.Status.Phase, rs.Status.CompletionTime = phase, &now
	c := rs.Status.Counts
	msg := fmt.Sprintf("%d created, %d updated, %d skipped, %d failed; %d of %d volumes restored",
		c.Created, c.Updated, c.Skipped, c.Failed, rs.Status.VolumesCompleted, rs.Status.VolumesTotal)
	status := metav1.ConditionTrue
	if phase != v1alpha1.RestoreCompleted {
		status = metav1.ConditionFalse
	}
	meta.SetStatusCondition(&rs.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: status,
		Reason: string(phase), Message: msg, ObservedGeneration: rs.Generation})
	r.event(rs, "Normal", string(phase), msg)
	metrics.RestoreFinished(phase, now.Sub(rs.Status.StartTime.Time))
	return ctrl.Result{}, r.Client.Status().Update(ctx, rs)
}
