package location

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// ExpirerName names the Expirer's controller and events.
const ExpirerName = "cairn-expiry"

// Expirer deletes finished Backups whose status.expiration has passed.
type Expirer struct {
	cfg Config
}

// NewExpirer returns an Expirer; SetupWithManager fills missing
// dependencies.
func NewExpirer(cfg Config) *Expirer { return &Expirer{cfg: cfg.withStaticDefaults()} }

// SetupWithManager registers the Expirer.
func (e *Expirer) SetupWithManager(mgr ctrl.Manager) error {
	e.cfg = e.cfg.withDefaults(mgr, ExpirerName)
	return ctrl.NewControllerManagedBy(mgr).
		Named(ExpirerName).
		For(&v1alpha1.Backup{}).
		Complete(e)
}

// Reconcile deletes one Backup if it has expired, or waits until it does.
// Backups still running are left alone: their expiration is counted from
// a start that may be far from their end, and deleting one mid-flight
// would waste the work.
func (e *Expirer) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var b v1alpha1.Backup
	if err := e.cfg.Client.Get(ctx, req.NamespacedName, &b); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get Backup %s: %w", req, err)
	}
	exp := b.Status.Expiration
	if exp == nil || !b.DeletionTimestamp.IsZero() || !b.Status.Phase.Done() {
		return ctrl.Result{}, nil
	}
	now := e.cfg.Clock.Now()
	if now.Before(exp.Time) {
		return ctrl.Result{RequeueAfter: min(exp.Sub(now), e.cfg.MaxWait)}, nil
	}
	err := e.cfg.Client.Delete(ctx, &b, client.Preconditions{UID: &b.UID})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("delete expired Backup %s: %w", req, err)
	}
	e.cfg.Recorder.Eventf(&b, nil, corev1.EventTypeNormal, "Expired", "Delete",
		"deleted Backup %s/%s: it expired at %s", b.Namespace, b.Name, exp.UTC().Format(time.RFC3339))
	return ctrl.Result{}, nil
}
