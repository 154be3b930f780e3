package restoreplan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Deps are what Apply works through.
type Deps struct {
	Dynamic dynamic.Interface
	// Owners rewrites owner references to restored owners. Nil drops
	// every owner reference, and controllers re-adopt what they select.
	Owners *Owners
	// CRDTimeout bounds the wait for a CRD to become Established;
	// DefaultCRDTimeout when zero.
	CRDTimeout time.Duration
}

// DefaultCRDTimeout bounds the wait for a restored CRD. The API server
// establishes a CRD within a second or two; a minute covers a loaded
// server without hiding a CRD that will never be established.
const DefaultCRDTimeout = time.Minute

// Errors a person can act on; Apply wraps them with the object's name and
// the fix.
var (
	ErrNamespaceTerminating = errors.New("namespace is being deleted")
	ErrNamespaceMissing     = errors.New("namespace does not exist")
	ErrNotServed            = errors.New("resource not served by the API server")
	ErrCRDNotEstablished    = errors.New("CRD not established")
	ErrUnknownPolicy        = errors.New("unknown existing-resource policy")
)

// Apply creates one planned item. When the object exists already, policy
// none leaves it (Skipped) and policy update writes the backup's version
// over it (Updated; see the package documentation for what is replaced).
// A CRD is waited for until it is Established, so the next item may be
// one of its instances. A restored status (RestoreSpec.restoreStatus) is
// written through the status subresource.
//
// The returned status entry is always filled in; on error its Result is
// Failed and its Message is the error's, which names the object.
func Apply(ctx context.Context, deps Deps, it Item, policy v1alpha1.ExistingPolicy) (v1alpha1.RestoreItem, error) {
	out, err := apply(ctx, deps, it, policy)
	if err != nil {
		return it.RestoreItem(v1alpha1.ItemFailed, err.Error()), err
	}
	return it.RestoreItem(out.result, out.message), nil
}

type outcome struct {
	live    *unstructured.Unstructured
	result  v1alpha1.ItemResult
	message string
}

func apply(ctx context.Context, deps Deps, it Item, policy v1alpha1.ExistingPolicy) (outcome, error) {
	if policy != "" && policy != v1alpha1.ExistingNone && policy != v1alpha1.ExistingUpdate {
		return outcome{}, fmt.Errorf("%w %q: use %q or %q", ErrUnknownPolicy, policy, v1alpha1.ExistingNone, v1alpha1.ExistingUpdate)
	}
	a, err := newApplier(deps, it)
	if err != nil {
		return outcome{}, err
	}
	desired := it.Object.DeepCopy()
	pending := deps.Owners.rewrite(desired)
	out, err := a.create(ctx, desired)
	if apierrors.IsAlreadyExists(err) {
		out, err = a.existing(ctx, desired, policy)
		pending = nil // an existing object keeps its own owners
	}
	if err != nil {
		return outcome{}, err
	}
	deps.Owners.record(it.SourceUID, out.live.GetUID())
	deps.Owners.later(a.gvr, out.live, pending)
	if it.GroupResource == grCRDs {
		if err := waitEstablished(ctx, a, it.Object.GetName(), deps.CRDTimeout); err != nil {
			return outcome{}, err
		}
	}
	if err := a.writeStatus(ctx, desired, out); err != nil {
		return outcome{}, err
	}
	return out, nil
}

// applier holds the client for one item's resource.
type applier struct {
	it  Item
	gvr schema.GroupVersionResource
	rc  dynamic.ResourceInterface
}

// newApplier needs no RESTMapper: the backup recorded each object's
// resource and scope, which is all the dynamic client needs. This also
// spares the restore a stale discovery cache right after it creates a CRD.
func newApplier(deps Deps, it Item) (*applier, error) {
	if it.Object == nil || deps.Dynamic == nil {
		return nil, errors.New("restoreplan: Apply needs an item with an object and a dynamic client")
	}
	gv, err := schema.ParseGroupVersion(it.Object.GetAPIVersion())
	if err != nil {
		return nil, fmt.Errorf("%s: apiVersion: %w", it.Ref(), err)
	}
	gvr := it.GroupResource.WithVersion(gv.Version)
	a := &applier{it: it, gvr: gvr}
	if it.Namespaced {
		a.rc = deps.Dynamic.Resource(gvr).Namespace(it.Object.GetNamespace())
	} else {
		a.rc = deps.Dynamic.Resource(gvr)
	}
	return a, nil
}

func (a *applier) create(ctx context.Context, desired *unstructured.Unstructured) (outcome, error) {
	live, err := a.rc.Create(ctx, desired, metav1.CreateOptions{})
	if err == nil {
		return outcome{live: live, result: v1alpha1.ItemCreated}, nil
	}
	if a.it.GroupResource == grServices && apierrors.IsInvalid(err) && strings.Contains(err.Error(), "nodePort") {
		// The backed-up node ports are taken in this cluster: let the API
		// server choose, and say so.
		retry := desired.DeepCopy()
		if serr := stripService(retry, StripOptions{}); serr == nil {
			if live, err2 := a.rc.Create(ctx, retry, metav1.CreateOptions{}); err2 == nil {
				return outcome{live: live, result: v1alpha1.ItemCreated,
					message: "the backed-up node ports are in use; the Service got new ones"}, nil
			}
		}
	}
	return outcome{}, a.explain("create", err)
}

// existing handles an object that is there already, following policy.
func (a *applier) existing(ctx context.Context, desired *unstructured.Unstructured, policy v1alpha1.ExistingPolicy) (outcome, error) {
	live, err := a.rc.Get(ctx, desired.GetName(), metav1.GetOptions{})
	if err != nil {
		return outcome{}, a.explain("read existing", err)
	}
	if a.it.GroupResource == grNamespaces && live.GetDeletionTimestamp() != nil {
		return outcome{}, fmt.Errorf("%s: %w: wait until it is gone and restore again, or map it to another namespace with spec.namespaceMapping",
			a.it.Ref(), ErrNamespaceTerminating)
	}
	if policy != v1alpha1.ExistingUpdate {
		return outcome{live: live, result: v1alpha1.ItemSkipped,
			message: "already exists; existingResourcePolicy none leaves it as it is"}, nil
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		merged := mergeForUpdate(a.it.GroupResource, live, desired)
		updated, uerr := a.rc.Update(ctx, merged, metav1.UpdateOptions{})
		if apierrors.IsConflict(uerr) {
			if fresh, gerr := a.rc.Get(ctx, desired.GetName(), metav1.GetOptions{}); gerr == nil {
				live = fresh
			}
			return uerr
		}
		if uerr == nil {
			live = updated
		}
		return uerr
	})
	if err != nil {
		return outcome{}, a.explain("update existing", err)
	}
	return outcome{live: live, result: v1alpha1.ItemUpdated}, nil
}

// writeStatus writes the backed-up status that Plan kept. Create and
// Update ignore status on resources with a status subresource; on those
// without one, it is written already and UpdateStatus finds no
// subresource (NotFound), which is fine.
func (a *applier) writeStatus(ctx context.Context, desired *unstructured.Unstructured, out outcome) error {
	status, found := desired.Object["status"]
	if !found || out.result == v1alpha1.ItemSkipped {
		return nil
	}
	withStatus := out.live.DeepCopy()
	withStatus.Object["status"] = status
	_, err := a.rc.UpdateStatus(ctx, withStatus, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return a.explain("restore status of", err)
	}
	return nil
}

// explain turns an API error into one that names the object and, where
// there is one, the fix.
func (a *applier) explain(doing string, err error) error {
	ns := a.it.Object.GetNamespace()
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return fmt.Errorf("%s %s: %w: wait until namespace %s is gone and restore again, or map it to another namespace with spec.namespaceMapping",
			doing, a.it.Ref(), ErrNamespaceTerminating, ns)
	case apierrors.IsNotFound(err) && notFoundKind(err) == "namespaces":
		return fmt.Errorf("%s %s: %w: %s; restore its Namespace too (do not exclude namespaces) or create it",
			doing, a.it.Ref(), ErrNamespaceMissing, ns)
	case apierrors.IsNotFound(err) && doing == "create":
		return fmt.Errorf("%s %s: %w: %s/%s; install its CRD or API first, or exclude %s from the restore",
			doing, a.it.Ref(), ErrNotServed, a.it.GroupResource, a.gvr.Version, a.it.GroupResource)
	}
	return fmt.Errorf("%s %s: %w", doing, a.it.Ref(), err)
}

func notFoundKind(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) && st.Status().Details != nil {
		return st.Status().Details.Kind
	}
	return ""
}
