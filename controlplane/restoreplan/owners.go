package restoreplan

import (
	"context"
	"errors"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// Owners rewrites owner references during one restore. A restored owner
// gets a new UID, so a reference that kept the backed-up UID would point
// at nothing, and the garbage collector deletes objects whose owners are
// gone. Owners learns each restored object's new UID as Apply creates or
// finds it, and sets it on the references to that object: at once when
// the owner was applied first, or in Finish for owners applied after
// their dependents (the restore order follows dependencies for creation,
// not ownership: a custom resource may own a Secret).
//
// Use one Owners per restore, shared by every Apply of that restore; it is
// safe for concurrent use.
type Owners struct {
	mu      sync.Mutex
	uids    map[types.UID]types.UID // backed-up UID → UID in the cluster
	pending []pendingOwners
}

// pendingOwners are references to owners not yet restored when their
// dependent was created.
type pendingOwners struct {
	gvr             schema.GroupVersionResource
	namespace, name string
	refs            []metav1.OwnerReference
}

// NewOwners returns an empty Owners.
func NewOwners() *Owners {
	return &Owners{uids: map[types.UID]types.UID{}}
}

// rewrite sets the new UIDs on obj's owner references and removes those
// whose owners are not restored yet, returning them. A nil Owners removes
// every reference.
func (o *Owners) rewrite(obj *unstructured.Unstructured) []metav1.OwnerReference {
	refs := obj.GetOwnerReferences()
	if len(refs) == 0 {
		return nil
	}
	unstructured.RemoveNestedField(obj.Object, "metadata", "ownerReferences")
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var now, later []metav1.OwnerReference
	for _, r := range refs {
		if uid, ok := o.uids[r.UID]; ok {
			r.UID = uid
			now = append(now, r)
		} else {
			later = append(later, r)
		}
	}
	if len(now) > 0 {
		obj.SetOwnerReferences(now)
	}
	return later
}

func (o *Owners) record(backedUp, live types.UID) {
	if o == nil || backedUp == "" || live == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.uids[backedUp] = live
}

func (o *Owners) later(gvr schema.GroupVersionResource, obj *unstructured.Unstructured, refs []metav1.OwnerReference) {
	if o == nil || len(refs) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending = append(o.pending, pendingOwners{gvr: gvr, namespace: obj.GetNamespace(), name: obj.GetName(), refs: refs})
}

// Finish adds the owner references that waited for their owners. Call it
// once, after every item has been applied. References to owners that were
// not restored (they failed) are dropped: the dependent stays, unowned.
// The error lists the objects that could not be updated; each is a
// warning, since the objects themselves are restored.
func (o *Owners) Finish(ctx context.Context, deps Deps) error {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	pending := o.pending
	o.pending = nil
	o.mu.Unlock()
	var errs []error
	for _, p := range pending {
		refs := o.resolve(p.refs)
		if len(refs) == 0 {
			continue
		}
		if err := addOwners(ctx, deps, p, refs); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (o *Owners) resolve(refs []metav1.OwnerReference) []metav1.OwnerReference {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []metav1.OwnerReference
	for _, r := range refs {
		if uid, ok := o.uids[r.UID]; ok {
			r.UID = uid
			out = append(out, r)
		}
	}
	return out
}

func addOwners(ctx context.Context, deps Deps, p pendingOwners, refs []metav1.OwnerReference) error {
	rc := deps.Dynamic.Resource(p.gvr).Namespace(p.namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := rc.Get(ctx, p.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		have := map[types.UID]bool{}
		controlled := false
		existing := live.GetOwnerReferences()
		for _, r := range existing {
			have[r.UID] = true
			controlled = controlled || isController(r)
		}
		for _, r := range refs {
			// A controller that adopted the object meanwhile keeps it:
			// an object has at most one controller.
			if !have[r.UID] && !(controlled && isController(r)) {
				existing = append(existing, r)
			}
		}
		live.SetOwnerReferences(existing)
		_, err = rc.Update(ctx, live, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("set owner references of %s %s: %w",
			p.gvr.GroupResource(), joinName(p.namespace, p.name), err)
	}
	return nil
}

func joinName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

func isController(r metav1.OwnerReference) bool { return r.Controller != nil && *r.Controller }
