package location

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/cairnbackup/cairn/chunkstore/blob/location"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/metrics"
)

// ValidatorName names the Validator's controller and events.
const ValidatorName = "cairn-location"

// configObject is the repository's config (FORMAT.md §1); a Stat of it
// proves the store answers and still holds the repository, without the
// cost of reading anything.
const configObject = "config"

// Validator reconciles BackupLocations' availability.
type Validator struct {
	cfg Config
}

// NewValidator returns a Validator; SetupWithManager fills missing
// dependencies.
func NewValidator(cfg Config) *Validator { return &Validator{cfg: cfg.withStaticDefaults()} }

// SetupWithManager registers the Validator. It reacts to spec and
// annotation changes (annotate a location to validate it now), not to
// status writes, and to changes of the Secrets locations name.
func (v *Validator) SetupWithManager(mgr ctrl.Manager) error {
	v.cfg = v.cfg.withDefaults(mgr, ValidatorName)
	return ctrl.NewControllerManagedBy(mgr).
		Named(ValidatorName).
		For(&v1alpha1.BackupLocation{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(v.locationsUsing), builder.OnlyMetadata).
		Complete(v)
}

// locationsUsing maps a Secret to the locations that name it.
func (v *Validator) locationsUsing(ctx context.Context, secret client.Object) []reconcile.Request {
	var list v1alpha1.BackupLocationList
	if err := v.cfg.Client.List(ctx, &list, client.InNamespace(secret.GetNamespace())); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, l := range list.Items {
		if l.Spec.PasswordSecretRef.Name == secret.GetName() || l.Spec.CredentialsSecret == secret.GetName() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&l)})
		}
	}
	return out
}

// Reconcile validates one location and schedules the next validation.
func (v *Validator) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var loc v1alpha1.BackupLocation
	if err := v.cfg.Client.Get(ctx, req.NamespacedName, &loc); err != nil {
		if apierrors.IsNotFound(err) {
			v.cfg.Opener.Forget(req.Namespace, req.Name)
			metrics.ForgetLocation(req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get BackupLocation %s: %w", req, err)
	}
	if !loc.DeletionTimestamp.IsZero() {
		v.cfg.Opener.Forget(loc.Namespace, loc.Name)
		metrics.ForgetLocation(loc.Name)
		return ctrl.Result{}, nil
	}
	orig := loc.DeepCopy()
	res := v.check(ctx, &loc)
	if err := ctx.Err(); err != nil {
		return ctrl.Result{}, err // shutting down: the verdict says nothing about the location
	}
	v.record(&loc, res)
	if err := patchStatus(ctx, v.cfg.Client, orig, &loc); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: validationInterval(&loc)}, nil
}

// verdict is the outcome of one validation.
type verdict struct {
	available    bool
	reason, msg  string
	repositoryID string
}

// check opens the repository and proves the store still answers: the
// Opener's cache would otherwise report a dead location as available.
func (v *Validator) check(ctx context.Context, loc *v1alpha1.BackupLocation) verdict {
	if _, err := location.Parse(loc.Spec.URL); err != nil {
		return verdict{reason: "InvalidURL", msg: fmt.Sprintf("BackupLocation %s/%s: %v; fix spec.url", loc.Namespace, loc.Name, err)}
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.ValidationTimeout)
	defer cancel()
	r, err := v.cfg.Opener.Open(ctx, loc)
	if err == nil {
		if _, err = r.Store().Stat(ctx, configObject); err != nil {
			v.cfg.Opener.Forget(loc.Namespace, loc.Name)
		}
	}
	if err != nil {
		return classify(loc, err)
	}
	id := r.Config().ID
	return verdict{available: true, reason: "RepositoryReachable", repositoryID: id.String(),
		msg: fmt.Sprintf("repository %s at %s is reachable and opens with the password in Secret %s/%s",
			id.Short(), loc.Spec.URL, loc.Namespace, loc.Spec.PasswordSecretRef.Name)}
}

// record writes a verdict into the status and emits an event when the
// location's availability or the reason for it changed.
func (v *Validator) record(loc *v1alpha1.BackupLocation, res verdict) {
	st := &loc.Status
	now := metav1.NewTime(v.cfg.Clock.Now())
	cond := metav1.Condition{Type: v1alpha1.ConditionAvailable, Status: metav1.ConditionFalse,
		Reason: res.reason, Message: res.msg, ObservedGeneration: loc.Generation, LastTransitionTime: now}
	phase, message := v1alpha1.LocationUnavailable, res.msg
	if res.available {
		cond.Status, phase, message = metav1.ConditionTrue, v1alpha1.LocationAvailable, ""
		st.RepositoryID = res.repositoryID
	}
	prev := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionAvailable)
	transition := prev == nil || prev.Status != cond.Status || prev.Reason != cond.Reason
	meta.SetStatusCondition(&st.Conditions, cond)
	st.Phase, st.Message, st.LastValidationTime = phase, message, &now
	metrics.LocationValidated(loc.Name, res.available)
	switch {
	case !transition:
	case res.available:
		v.cfg.Recorder.Eventf(loc, nil, corev1.EventTypeNormal, res.reason, "Validate", "%s", res.msg)
	default:
		v.cfg.Recorder.Eventf(loc, nil, corev1.EventTypeWarning, res.reason, "Validate", "%s", res.msg)
	}
}

func validationInterval(loc *v1alpha1.BackupLocation) time.Duration {
	if d := loc.Spec.ValidationInterval; d != nil && d.Duration > 0 {
		return d.Duration
	}
	return DefaultValidationInterval
}

// patchStatus writes the status with optimistic locking (see doc.go).
func patchStatus(ctx context.Context, c client.Client, orig, loc *v1alpha1.BackupLocation) error {
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if err := c.Status().Patch(ctx, loc, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update status of BackupLocation %s/%s: %w", loc.Namespace, loc.Name, err)
	}
	return nil
}
