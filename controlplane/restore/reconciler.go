package restore

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/hooks"
	"github.com/cairnbackup/cairn/controlplane/locations"
)

// Config tunes the controller.
type Config struct {
	// MaxConcurrent restores at once; default 4.
	MaxConcurrent int
	// PollInterval for work items; default 5s.
	PollInterval time.Duration
}

// Deps are the controller's collaborators.
type Deps struct {
	Client   client.Client
	Dynamic  dynamic.Interface
	Opener   *locations.Opener
	Hooks    *hooks.Runner
	Recorder events.EventRecorder
}

// Reconciler drives Restores.
type Reconciler struct {
	Deps
	cfg Config
}

// New returns a Reconciler.
func New(d Deps, cfg Config) *Reconciler {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	return &Reconciler{Deps: d, cfg: cfg}
}

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Restore{}).
		Owns(&v1alpha1.VolumeRestore{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.cfg.MaxConcurrent}).
		Named("restore").
		Complete(r)
}

// Reconcile moves one Restore forward by one phase.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var rs v1alpha1.Restore
	if err := r.Client.Get(ctx, req.NamespacedName, &rs); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	switch rs.Status.Phase {
	case "", v1alpha1.RestoreNew:
		return r.start(ctx, &rs)
	case v1alpha1.RestoreInProgress:
		return r.run(ctx, &rs)
	case v1alpha1.RestoreWaitingForVolumes:
		return r.wait(ctx, &rs)
	}
	return ctrl.Result{}, nil
}

// start checks the backup and moves the restore to InProgress.
func (r *Reconciler) start(ctx context.Context, rs *v1alpha1.Restore) (ctrl.Result, error) {
	b, err := r.backup(ctx, rs)
	if err != nil {
		return r.fail(ctx, rs, "BackupNotUsable", "%v", err)
	}
	now := metav1.Now()
	rs.Status.Phase, rs.Status.StartTime = v1alpha1.RestoreInProgress, &now
	meta.SetStatusCondition(&rs.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: "InProgress", Message: fmt.Sprintf("restoring backup %s from location %s", b.Name, b.Spec.LocationName),
		ObservedGeneration: rs.Generation})
	return ctrl.Result{}, r.Client.Status().Update(ctx, rs)
}

// backup returns the restore's backup if it can be restored from.
func (r *Reconciler) backup(ctx context.Context, rs *v1alpha1.Restore) (*v1alpha1.Backup, error) {
	var b v1alpha1.Backup
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: rs.Namespace, Name: rs.Spec.BackupName}, &b)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("backup %q does not exist in namespace %s; list backups with `kubectl get backups -n %s` (backups of another cluster appear once their location is synced)",
			rs.Spec.BackupName, rs.Namespace, rs.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("read backup %q: %w", rs.Spec.BackupName, err)
	}
	if b.Status.Phase != v1alpha1.BackupCompleted && b.Status.Phase != v1alpha1.BackupPartiallyFailed {
		return nil, fmt.Errorf("backup %q is %s, not finished; restore from a Completed or PartiallyFailed backup", b.Name, orNew(b.Status.Phase))
	}
	if b.Status.ResourcesSnapshotID == "" {
		return nil, fmt.Errorf("backup %q records no snapshot of API objects; it cannot be restored", b.Name)
	}
	return &b, nil
}

func orNew(p v1alpha1.BackupPhase) string {
	if p == "" {
		return "New"
	}
	return string(p)
}

// fail ends the restore in Failed with a condition a person can act on.
func (r *Reconciler) fail(ctx context.Context, rs *v1alpha1.Restore, reason, format string, args ...any) (ctrl.Result, error) {
	msg := fmt.Sprintf(format, args...)
	now := metav1.Now()
	rs.Status.Phase, rs.Status.CompletionTime = v1alpha1.RestoreFailed, &now
	if len(rs.Status.Errors) < maxMessages {
		rs.Status.Errors = append(rs.Status.Errors, msg)
	}
	meta.SetStatusCondition(&rs.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
		Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: rs.Generation})
	r.event(rs, "Warning", reason, msg)
	return ctrl.Result{}, r.Client.Status().Update(ctx, rs)
}

func (r *Reconciler) event(rs *v1alpha1.Restore, kind, reason, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(rs, nil, kind, reason, "Restore", "%s", msg)
	}
}

// maxMessages bounds status lists; see the Backup controller.
const maxMessages = 50
