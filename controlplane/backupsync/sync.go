package backupsync

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/manifest"
)

// ControllerName names the controller and its events.
const ControllerName = "cairn-backupsync"

// DefaultInterval is how often a location is synced: a backup made in
// another cluster shows up here within about a minute, for one LIST of the
// manifests folder per location per minute.
const DefaultInterval = time.Minute

// Clock tells the time; tests inject a fake.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Config holds the controller's dependencies and settings. Zero fields take
// defaults in SetupWithManager: the manager's client and API reader, an
// Opener over the API reader, and an event recorder named after the
// controller.
type Config struct {
	Client client.Client
	// APIReader reads past the cache, to confirm a Backup is really absent.
	APIReader client.Reader
	Opener    *locations.Opener
	Recorder  events.EventRecorder
	Clock     Clock
	// Interval defaults to DefaultInterval.
	Interval time.Duration
}

// Reconciler syncs Backups from locations.
type Reconciler struct {
	cfg Config

	mu     sync.Mutex
	known  map[string]map[core.ID]*manifest.Manifest // location key → manifest ID → manifest (nil: unreadable)
	warned map[string]bool                           // location key + manifest ID already warned about
}

// New returns a Reconciler; SetupWithManager fills missing dependencies.
func New(cfg Config) *Reconciler {
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	return &Reconciler{cfg: cfg, known: map[string]map[core.ID]*manifest.Manifest{}, warned: map[string]bool{}}
}

// SetupWithManager registers the controller. It wakes on a location's spec
// changes and on its phase changes (a location that becomes Available is
// synced at once), and otherwise every Interval.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.cfg.Client == nil {
		r.cfg.Client = mgr.GetClient()
	}
	if r.cfg.APIReader == nil {
		r.cfg.APIReader = mgr.GetAPIReader()
	}
	if r.cfg.Opener == nil {
		r.cfg.Opener = &locations.Opener{Client: mgr.GetAPIReader()}
	}
	if r.cfg.Recorder == nil {
		r.cfg.Recorder = mgr.GetEventRecorder(ControllerName)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&v1alpha1.BackupLocation{}, builder.WithPredicates(
			predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, phaseChanged()))).
		Complete(r)
}

func phaseChanged() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1alpha1.BackupLocation)
		n, ok2 := e.ObjectNew.(*v1alpha1.BackupLocation)
		return !ok1 || !ok2 || o.Status.Phase != n.Status.Phase
	}}
}

// Reconcile syncs one location if its interval has passed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var loc v1alpha1.BackupLocation
	if err := r.cfg.Client.Get(ctx, req.NamespacedName, &loc); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.String())
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get BackupLocation %s: %w", req, err)
	}
	now := r.cfg.Clock.Now()
	switch {
	case !loc.DeletionTimestamp.IsZero():
		return ctrl.Result{}, nil
	case loc.Status.Phase != v1alpha1.LocationAvailable:
		return ctrl.Result{RequeueAfter: r.cfg.Interval}, nil
	case loc.Status.LastSyncTime != nil && now.Sub(loc.Status.LastSyncTime.Time) < r.cfg.Interval:
		return ctrl.Result{RequeueAfter: r.cfg.Interval - now.Sub(loc.Status.LastSyncTime.Time)}, nil
	}
	if err := r.sync(ctx, &loc); err != nil {
		r.cfg.Recorder.Eventf(&loc, nil, corev1.EventTypeWarning, "SyncFailed", "Sync",
			"sync of BackupLocation %s/%s failed: %v; retrying", loc.Namespace, loc.Name, err)
		return ctrl.Result{}, err
	}
	if err := r.stampSync(ctx, &loc); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: r.cfg.Interval}, nil
}

// stampSync records the sync time. A plain merge patch of one scalar field
// cannot clobber the conditions other controllers write.
func (r *Reconciler) stampSync(ctx context.Context, loc *v1alpha1.BackupLocation) error {
	orig := loc.DeepCopy()
	t := metav1.NewTime(r.cfg.Clock.Now())
	loc.Status.LastSyncTime = &t
	if err := r.cfg.Client.Status().Patch(ctx, loc, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update status of BackupLocation %s/%s: %w", loc.Namespace, loc.Name, err)
	}
	return nil
}

func (r *Reconciler) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.known, key)
}
