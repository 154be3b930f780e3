package location

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cairnbackup/cairn/chunkstore/pruner"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/schedule/cronspec"
)

// MaintainerName names the Maintainer's controller and events.
const MaintainerName = "cairn-maintenance"

// ConditionMaintained reports the last maintenance of a location.
const ConditionMaintained = "Maintained"

// busyRetry is how long a location waits when its repository is being
// pruned through another location that names the same repository.
const busyRetry = time.Minute

// Maintainer prunes the repositories of ReadWrite locations on their
// maintenance schedule.
type Maintainer struct {
	cfg Config

	mu       sync.Mutex
	running  map[string]bool      // repository IDs being pruned
	attempts map[string]time.Time // location key → last attempt, for failed runs
}

// NewMaintainer returns a Maintainer; SetupWithManager fills missing
// dependencies.
func NewMaintainer(cfg Config) *Maintainer {
	return &Maintainer{cfg: cfg.withStaticDefaults(), running: map[string]bool{}, attempts: map[string]time.Time{}}
}

// SetupWithManager registers the Maintainer. Its own workqueue keeps a
// long prune from delaying validations, and the workqueue never hands one
// location to two workers at once.
func (m *Maintainer) SetupWithManager(mgr ctrl.Manager) error {
	m.cfg = m.cfg.withDefaults(mgr, MaintainerName)
	return ctrl.NewControllerManagedBy(mgr).
		Named(MaintainerName).
		For(&v1alpha1.BackupLocation{}).
		Complete(m)
}

// Reconcile prunes one location's repository if its slot is due.
func (m *Maintainer) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var loc v1alpha1.BackupLocation
	if err := m.cfg.Client.Get(ctx, req.NamespacedName, &loc); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get BackupLocation %s: %w", req, err)
	}
	if !loc.DeletionTimestamp.IsZero() || loc.Spec.AccessMode == v1alpha1.AccessReadOnly {
		return ctrl.Result{}, nil
	}
	expr := loc.Spec.MaintenanceSchedule
	if expr == "" {
		expr = DefaultMaintenanceSchedule
	}
	spec, err := cronspec.Parse(expr)
	if err != nil {
		return ctrl.Result{}, m.invalidSchedule(ctx, &loc, expr, err)
	}
	if err := checkMaxMemory(&loc); err != nil {
		return ctrl.Result{}, m.invalidSetting(ctx, &loc, "InvalidMaxMemory", err.Error())
	}
	now := m.cfg.Clock.Now()
	if _, due := spec.Due(m.lastRun(&loc), now); !due {
		return ctrl.Result{RequeueAfter: m.wait(spec, now)}, nil
	}
	if loc.Status.Phase != v1alpha1.LocationAvailable {
		return ctrl.Result{RequeueAfter: m.cfg.MaxWait}, nil // the Validator's status change wakes us earlier
	}
	if busy, err := m.prune(ctx, &loc); busy || err != nil {
		return ctrl.Result{RequeueAfter: busyRetry}, err
	}
	return ctrl.Result{RequeueAfter: m.wait(spec, m.cfg.Clock.Now())}, nil
}

// lastRun is the time after which a slot is due: the location's creation,
// its last maintenance, or this process's last failed attempt.
func (m *Maintainer) lastRun(loc *v1alpha1.BackupLocation) time.Time {
	ref := loc.CreationTimestamp.Time
	if t := loc.Status.LastMaintenanceTime; t != nil && t.After(ref) {
		ref = t.Time
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.attempts[loc.Namespace+"/"+loc.Name]; ok && t.After(ref) {
		ref = t
	}
	return ref
}

func (m *Maintainer) wait(spec cronspec.Spec, now time.Time) time.Duration {
	next := spec.Next(now)
	return min(max(next.Sub(now), time.Second), m.cfg.MaxWait)
}

// prune runs one prune and records it. busy reports that the repository is
// being pruned through another location.
func (m *Maintainer) prune(ctx context.Context, loc *v1alpha1.BackupLocation) (busy bool, err error) {
	r, done, err := m.open(ctx, loc)
	if err != nil {
		return false, nil // the Validator reports why; try at the next slot
	}
	defer done()
	id := r.Config().ID.String()
	if !m.claim(id) {
		return true, nil
	}
	defer m.release(id)
	orig := loc.DeepCopy()
	start := time.Now() // a measurement, not a schedule: the real clock
	res, perr := pruner.Prune(ctx, r, m.cfg.Prune)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	m.mu.Lock()
	m.attempts[loc.Namespace+"/"+loc.Name] = m.cfg.Clock.Now()
	m.mu.Unlock()
	m.recordPrune(loc, res, perr, time.Since(start))
	return false, patchStatus(ctx, m.cfg.Client, orig, loc)
}

// minMaxMemory is the smallest maintenance budget accepted, as for
// 'cairn repo --max-memory'.
const minMaxMemory = 64 << 20

// open returns the repository to prune and what to call when done. With
// spec.maintenanceMaxMemory it is a private one reading its index through
// the on-disk cache within that budget; otherwise the shared one.
func (m *Maintainer) open(ctx context.Context, loc *v1alpha1.BackupLocation) (*repo.Repository, func(), error) {
	q := loc.Spec.MaintenanceMaxMemory
	if q == nil {
		r, err := m.cfg.Opener.Open(ctx, loc)
		return r, func() {}, err
	}
	r, err := m.cfg.Opener.OpenBounded(ctx, loc, locations.Bounded{IndexCache: m.cfg.IndexCacheDir, MaxMemory: q.Value()})
	if err != nil {
		return nil, nil, err
	}
	return r, func() { _ = r.Close() }, nil
}

// checkMaxMemory reports an unusable spec.maintenanceMaxMemory.
func checkMaxMemory(loc *v1alpha1.BackupLocation) error {
	if q := loc.Spec.MaintenanceMaxMemory; q != nil && q.Value() < minMaxMemory {
		return fmt.Errorf("BackupLocation %s/%s: spec.maintenanceMaxMemory %s is below the 64Mi maintenance needs; "+
			"raise it, or remove it to load the index into memory", loc.Namespace, loc.Name, q.String())
	}
	return nil
}

func (m *Maintainer) claim(repoID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running[repoID] {
		return false
	}
	m.running[repoID] = true
	return true
}

func (m *Maintainer) release(repoID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.running, repoID)
}

func (m *Maintainer) recordPrune(loc *v1alpha1.BackupLocation, res *pruner.Result, err error, took time.Duration) {
	now := metav1.NewTime(m.cfg.Clock.Now())
	cond := metav1.Condition{Type: ConditionMaintained, ObservedGeneration: loc.Generation, LastTransitionTime: now}
	if err != nil {
		cond.Status, cond.Reason = metav1.ConditionFalse, "PruneFailed"
		cond.Message = fmt.Sprintf("prune of BackupLocation %s/%s failed: %v; it is tried again at the next maintenance slot",
			loc.Namespace, loc.Name, err)
		m.cfg.Recorder.Eventf(loc, nil, corev1.EventTypeWarning, cond.Reason, "Prune", "%s", cond.Message)
	} else {
		loc.Status.LastMaintenanceTime = &now
		cond.Status, cond.Reason = metav1.ConditionTrue, "PruneSucceeded"
		cond.Message = fmt.Sprintf("pruned in %s: %d packs deleted (%d bytes), %d repacked, %d rescued, "+
			"%d deletion markers pending, %d index files merged", took.Round(time.Millisecond), res.PacksDeleted,
			res.BytesDeleted, res.PacksRepacked, res.PacksRescued, res.MarkersPending, res.IndexFilesMerged)
		m.cfg.Recorder.Eventf(loc, nil, corev1.EventTypeNormal, cond.Reason, "Prune", "%s", cond.Message)
	}
	meta.SetStatusCondition(&loc.Status.Conditions, cond)
}

func (m *Maintainer) invalidSchedule(ctx context.Context, loc *v1alpha1.BackupLocation, expr string, err error) error {
	msg := fmt.Sprintf("BackupLocation %s/%s: maintenance schedule %q is invalid: %v; use five cron fields "+
		"(e.g. \"0 3 * * *\") or a descriptor such as @daily in spec.maintenanceSchedule", loc.Namespace, loc.Name, expr, err)
	return m.invalidSetting(ctx, loc, "InvalidSchedule", msg)
}

// invalidSetting reports a maintenance setting that stops maintenance, once.
func (m *Maintainer) invalidSetting(ctx context.Context, loc *v1alpha1.BackupLocation, reason, msg string) error {
	orig := loc.DeepCopy()
	changed := meta.SetStatusCondition(&loc.Status.Conditions, metav1.Condition{Type: ConditionMaintained,
		Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: loc.Generation,
		LastTransitionTime: metav1.NewTime(m.cfg.Clock.Now())})
	if !changed {
		return nil
	}
	m.cfg.Recorder.Eventf(loc, nil, corev1.EventTypeWarning, reason, "Prune", "%s", msg)
	return patchStatus(ctx, m.cfg.Client, orig, loc)
}
