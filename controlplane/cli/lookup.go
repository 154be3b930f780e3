package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kind describes one cairn kind for messages and lookups.
type kind struct {
	name    string // "backup"
	command string // "cairn backup"
	newList func() client.ObjectList
}

// get reads the object named name into obj. A missing object is an error
// that lists the names that do exist.
func (e *env) get(ctx context.Context, k kind, name string, obj client.Object) error {
	c, err := e.kube()
	if err != nil {
		return err
	}
	err = c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: name}, obj)
	if resourceMissing(err) {
		return &notInstalledError{err: err}
	}
	if apierrors.IsNotFound(err) && !namespaceMissing(err) {
		return e.notFound(ctx, k, name)
	}
	if err != nil {
		return fmt.Errorf("read %s %s/%s: %w", k.name, e.namespace, name, err)
	}
	return nil
}

// notFoundError is a missing object; its message names those that exist.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// notFound is the error for a missing object, naming those that exist.
func (e *env) notFound(ctx context.Context, k kind, name string) error {
	names, err := e.names(ctx, k)
	if resourceMissing(err) {
		return &notInstalledError{err: err}
	}
	if err != nil {
		return &notFoundError{fmt.Sprintf("%s %q not found in namespace %s (listing the others failed: %v)", k.name, name, e.namespace, e.explain(err))}
	}
	if len(names) == 0 {
		return &notFoundError{fmt.Sprintf("%s %q not found in namespace %s, which has no %ss; list them with `%s get`, or pass -n with the namespace cairn runs in",
			k.name, name, e.namespace, k.name, k.command)}
	}
	return &notFoundError{fmt.Sprintf("%s %q not found in namespace %s; the %ss there are: %s", k.name, name, e.namespace, k.name, summarize(names))}
}

// names lists the names of the kind's objects in the namespace.
func (e *env) names(ctx context.Context, k kind) ([]string, error) {
	c, err := e.kube()
	if err != nil {
		return nil, err
	}
	l := k.newList()
	if err := c.List(ctx, l, client.InNamespace(e.namespace)); err != nil {
		return nil, err
	}
	objs, err := meta.ExtractList(l)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range objs {
		if m, err := meta.Accessor(o); err == nil {
			out = append(out, m.GetName())
		}
	}
	sort.Strings(out)
	return out, nil
}

// summarize lists up to 20 names.
func summarize(names []string) string {
	if len(names) > 20 {
		return strings.Join(names[:20], ", ") + fmt.Sprintf(" and %d more", len(names)-20)
	}
	return strings.Join(names, ", ")
}

// list reads all objects of a kind in the namespace, or those named.
func (e *env) list(ctx context.Context, k kind, names []string, into client.ObjectList, each func(name string) (client.Object, error)) ([]client.Object, error) {
	if len(names) > 0 {
		var out []client.Object
		for _, n := range names {
			o, err := each(n)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	}
	c, err := e.kube()
	if err != nil {
		return nil, err
	}
	if err := c.List(ctx, into, client.InNamespace(e.namespace)); err != nil {
		return nil, fmt.Errorf("list %ss in namespace %s: %w", k.name, e.namespace, err)
	}
	objs, err := meta.ExtractList(into)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(client.Object))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, nil
}

// resourceMissing reports a 404 for the resource itself rather than for an
// object: the API server no longer serves the kind (its CRD was deleted
// and a cached mapping still names it).
func resourceMissing(err error) bool {
	var st apierrors.APIStatus
	if !apierrors.IsNotFound(err) || !errors.As(err, &st) {
		return false
	}
	d := st.Status().Details
	return d == nil || d.Name == ""
}
