package backup

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/locations"
)

// Finalizer makes deletion forget the backup's repository data first.
const Finalizer = "cairn.dev/backup-cleanup"

// Config tunes the controller.
type Config struct {
	// MaxConcurrent backups run at once; default 2, since each pins a
	// worker for its freeze window and the agents share the nodes.
	MaxConcurrent int
	// SnapshotTimeout bounds the freeze window; default 10m.
	SnapshotTimeout time.Duration
	// DefaultTTL applies when a Backup has none; default 720h.
	DefaultTTL time.Duration
	// PollInterval is how often work items are checked; default 5s.
	PollInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 2
	}
	if c.SnapshotTimeout <= 0 {
		c.SnapshotTimeout = 10 * time.Minute
	}
	if c.DefaultTTL <= 0 {
		c.DefaultTTL = 720 * time.Hour
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	return c
}

// Clock is the time source.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Collector gathers the API objects a Backup selects.
type Collector interface {
	Collect(ctx context.Context, spec v1alpha1.BackupSpec) (*collect.Result, error)
}

// Freezer runs pre-hooks on the selected pods, then snapshots, then the
// post-hooks, which run even when snapshots fails.
type Freezer interface {
	Freeze(ctx context.Context, b *v1alpha1.Backup, snapshots func(context.Context) error) (warnings []string, err error)
}

// Deps are the controller's collaborators.
type Deps struct {
	Client    client.Client
	Opener    *locations.Opener
	Collector Collector
	Freezer   Freezer
	Recorder  events.EventRecorder
	Clock     Clock
}

// Reconciler drives Backups.
type Reconciler struct {
	Deps
	cfg Config
}

// New returns a Reconciler.
func New(d Deps, cfg Config) *Reconciler {
	if d.Clock == nil {
		d.Clock = realClock{}
	}
	return &Reconciler{Deps: d, cfg: cfg.withDefaults()}
}

// SetupWithManager registers the controller; it also watches the work
// items so progress is aggregated as soon as an agent reports.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Backup{}).
		Owns(&v1alpha1.VolumeBackup{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.cfg.MaxConcurrent}).
		Named("backup").
		Complete(r)
}

// Reconcile moves one Backup forward by one phase.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var b v1alpha1.Backup
	if err := r.Client.Get(ctx, req.NamespacedName, &b); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !b.DeletionTimestamp.IsZero() {
		return r.delete(ctx, &b)
	}
	if controllerutil.AddFinalizer(&b, Finalizer) {
		if err := r.Client.Update(ctx, &b); err != nil {
			return ctrl.Result{}, err
		}
	}
	if b.Annotations[v1alpha1.AnnotationSynced] != "" {
		return ctrl.Result{}, nil // imported from a location: already done elsewhere
	}
	if cancelRequested(&b) {
		return r.cancel(ctx, &b)
	}
	switch b.Status.Phase {
	case "", v1alpha1.BackupNew:
		return r.start(ctx, &b)
	case v1alpha1.BackupInProgress:
		return r.run(ctx, &b)
	case v1alpha1.BackupWaitingForVolumes:
		return r.wait(ctx, &b)
	}
	return ctrl.Result{}, nil
}

// fail ends the backup in Failed with a condition a person can act on.
func (r *Reconciler) fail(ctx context.Context, b *v1alpha1.Backup, reason, format string, args ...any) (ctrl.Result, error) {
	msg := fmt.Sprintf(format, args...)
	b.Status.Phase = v1alpha1.BackupFailed
	b.Status.Errors = appendCapped(b.Status.Errors, msg)
	now := metav1.NewTime(r.Clock.Now())
	b.Status.CompletionTime = &now
	meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
		Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: b.Generation})
	r.event(b, "Warning", reason, msg)
	return ctrl.Result{}, r.Client.Status().Update(ctx, b)
}

func (r *Reconciler) event(b *v1alpha1.Backup, kind, reason, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(b, nil, kind, reason, "Backup", "%s", msg)
	}
}

// maxMessages bounds status lists so a backup of a broken namespace cannot
// grow its status past the object size limit; the manifest has the rest.
const maxMessages = 50

func appendCapped(list []string, msg string) []string {
	if len(list) >= maxMessages {
		return list
	}
	return append(list, msg)
}
