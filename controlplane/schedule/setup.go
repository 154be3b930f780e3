package schedule

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// ControllerName names the controller, its workqueue and its events.
const ControllerName = "cairn-schedule"

// SetupWithManager registers the controller. It watches Schedules and the
// Backups they made, reacting to a Backup's creation, deletion and change
// of phase (not its progress updates).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.cfg.Client == nil {
		r.cfg.Client = mgr.GetClient()
	}
	if r.cfg.Recorder == nil {
		r.cfg.Recorder = mgr.GetEventRecorder(ControllerName)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&v1alpha1.Schedule{}).
		Watches(&v1alpha1.Backup{}, handler.EnqueueRequestsFromMapFunc(scheduleOf),
			builder.WithPredicates(phaseChanged())).
		Complete(r)
}

// scheduleOf maps a Backup to the Schedule that made it.
func scheduleOf(_ context.Context, o client.Object) []reconcile.Request {
	name := o.GetLabels()[v1alpha1.LabelSchedule]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}

// phaseChanged passes creations, deletions and phase changes of Backups.
func phaseChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldB, ok1 := e.ObjectOld.(*v1alpha1.Backup)
			newB, ok2 := e.ObjectNew.(*v1alpha1.Backup)
			return !ok1 || !ok2 || oldB.Status.Phase != newB.Status.Phase ||
				oldB.DeletionTimestamp.IsZero() != newB.DeletionTimestamp.IsZero()
		},
	}
}
