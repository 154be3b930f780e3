package restoreplan

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// decoded is an input object that passed the basic checks, as a private
// copy the plan may edit.
type decoded struct {
	gr         schema.GroupResource
	namespaced bool
	u          *unstructured.Unstructured
}

// Plan turns backed-up objects into an ordered, cleaned restore: it
// applies the spec's filters, strips what must not be copied, applies the
// namespace and storage class mappings, injects the hooks' init
// containers and sorts the result in dependency order (see the package
// documentation for each step). It never edits objs.
//
// The error reports a spec that cannot be applied (ErrInvalidSpec).
// Objects that cannot be planned are listed in Result.Failed.
func Plan(objs []Object, spec v1alpha1.RestoreSpec) (*Result, error) {
	f, err := compileFilter(spec)
	if err != nil {
		return nil, err
	}
	hooks, err := compileHooks(spec.Hooks)
	if err != nil {
		return nil, err
	}
	if err := validateMappings(spec); err != nil {
		return nil, err
	}
	res := &Result{}
	var ok []*decoded
	for _, o := range objs {
		d, err := decode(o)
		if err != nil {
			res.Failed = append(res.Failed, failedInput(o, err))
			continue
		}
		ok = append(ok, d)
	}
	var selected []*decoded
	keep := f.selectObjects(ok)
	for i, d := range ok {
		if !keep[i] {
			continue
		}
		if why := neverRestored(d); why != "" {
			res.Skipped = append(res.Skipped, v1alpha1.RestoreItem{Resource: d.gr.String(),
				Namespace: d.u.GetNamespace(), Name: d.u.GetName(), Result: v1alpha1.ItemSkipped, Message: why})
			continue
		}
		selected = append(selected, d)
	}
	p := planner{spec: spec, hooks: hooks, restored: map[types.UID]bool{}}
	for _, d := range selected {
		if uid := d.u.GetUID(); uid != "" {
			p.restored[uid] = true
		}
	}
	for _, d := range selected {
		it, err := p.prepare(d)
		if err != nil {
			res.Failed = append(res.Failed, v1alpha1.RestoreItem{Resource: d.gr.String(),
				Namespace: d.u.GetNamespace(), Name: d.u.GetName(), Result: v1alpha1.ItemFailed, Message: err.Error()})
			continue
		}
		res.Items = append(res.Items, it)
	}
	sortItems(res.Items)
	return res, nil
}

type planner struct {
	spec     v1alpha1.RestoreSpec
	hooks    []initHook
	restored map[types.UID]bool
}

// prepare strips, maps and injects, in that order: stripping looks at the
// object as backed up, and hooks select pods by their restored namespace.
func (p *planner) prepare(d *decoded) (it Item, err error) {
	defer recoverAsError(&err)
	srcNS, uid := d.u.GetNamespace(), d.u.GetUID()
	_, mapped := p.spec.NamespaceMapping[srcNS]
	opts := StripOptions{RestoreStatus: p.spec.RestoreStatus, KeepNodePorts: !mapped, Restored: p.restored}
	if err := Strip(d.gr, d.u, opts); err != nil {
		return Item{}, err
	}
	steps := []struct {
		what string
		fn   func() error
	}{
		{"map namespaces", func() error { return mapNamespaces(d.gr, d.u, p.spec.NamespaceMapping) }},
		{"map storage classes", func() error { return mapStorageClasses(d.gr, d.u, p.spec.StorageClassMapping) }},
		{"inject init containers", func() error { return injectInitContainers(d.gr, d.u, p.hooks) }},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return Item{}, fmt.Errorf("%s of %s: %w", s.what, ref(d.gr, srcNS, d.u.GetName()), err)
		}
	}
	return Item{GroupResource: d.gr, Namespaced: d.namespaced, Object: d.u, Stage: stageOf(d.gr),
		SourceNamespace: srcNS, SourceUID: uid}, nil
}

// recoverAsError turns a panic into an error. unstructured's deep copy
// panics on values JSON cannot hold; a caller that built such an object
// by hand gets a failed item, not a crashed controller.
func recoverAsError(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("malformed object: %v", r)
	}
}

// decode copies an input object and checks what every later step relies
// on: a kind, an apiVersion, a name, and a namespace exactly when the
// resource is namespaced.
func decode(o Object) (d *decoded, err error) {
	defer recoverAsError(&err)
	if o.GroupResource.Resource == "" {
		return nil, errors.New("no resource recorded for the object")
	}
	u := &unstructured.Unstructured{}
	switch {
	case o.Object != nil:
		u = o.Object.DeepCopy()
	case o.Raw != nil:
		if err := u.UnmarshalJSON(o.Raw); err != nil {
			return nil, fmt.Errorf("decode JSON: %w", err)
		}
	default:
		return nil, errors.New("no object")
	}
	if err := checkShape(u, o.Namespaced); err != nil {
		return nil, err
	}
	return &decoded{gr: o.GroupResource, namespaced: o.Namespaced, u: u}, nil
}

func checkShape(u *unstructured.Unstructured, namespaced bool) error {
	if md, ok := u.Object["metadata"]; ok {
		if _, isMap := md.(map[string]any); !isMap {
			return fmt.Errorf("metadata is a %T, not an object", md)
		}
	}
	switch {
	case u.GetAPIVersion() == "" || u.GetKind() == "":
		return errors.New("no apiVersion or kind")
	case u.GetName() == "":
		return errors.New("no metadata.name")
	case namespaced && u.GetNamespace() == "":
		return errors.New("no metadata.namespace on an object of a namespaced resource")
	case !namespaced && u.GetNamespace() != "":
		return errors.New("metadata.namespace set on an object of a cluster-scoped resource")
	}
	if _, err := schema.ParseGroupVersion(u.GetAPIVersion()); err != nil {
		return fmt.Errorf("apiVersion: %w", err)
	}
	return nil
}

// failedInput is the status entry of an object decode refused; it names
// what it can.
func failedInput(o Object, err error) v1alpha1.RestoreItem {
	it := v1alpha1.RestoreItem{Resource: o.GroupResource.String(), Result: v1alpha1.ItemFailed,
		Message: "cannot restore: " + err.Error()}
	if o.Object != nil {
		func() {
			defer func() { _ = recover() }()
			it.Namespace, it.Name = o.Object.GetNamespace(), o.Object.GetName()
		}()
	}
	return it
}

// validateMappings checks that every mapping names valid namespaces and
// storage classes, so a typo fails the restore before it creates anything.
func validateMappings(spec v1alpha1.RestoreSpec) error {
	for _, from := range slices.Sorted(maps.Keys(spec.NamespaceMapping)) {
		to := spec.NamespaceMapping[from]
		for _, n := range []string{from, to} {
			if msgs := validation.IsDNS1123Label(n); len(msgs) > 0 {
				return fmt.Errorf("%w: spec.namespaceMapping %q: %q is not a namespace name: %s",
					ErrInvalidSpec, from, n, msgs[0])
			}
		}
	}
	for _, from := range slices.Sorted(maps.Keys(spec.StorageClassMapping)) {
		to := spec.StorageClassMapping[from]
		for _, n := range []string{from, to} {
			if msgs := validation.IsDNS1123Subdomain(n); len(msgs) > 0 {
				return fmt.Errorf("%w: spec.storageClassMapping %q: %q is not a storage class name: %s",
					ErrInvalidSpec, from, n, msgs[0])
			}
		}
	}
	return nil
}
