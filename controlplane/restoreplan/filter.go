package restoreplan

import (
	"errors"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/globs"
)

// ErrInvalidSpec marks a RestoreSpec that cannot be applied; the message
// names the field to fix.
var ErrInvalidSpec = errors.New("invalid restore spec")

// filter is the compiled selection part of a RestoreSpec.
type filter struct {
	nsInclude, nsExclude   []string
	resInclude, resExclude []string
	selector               labels.Selector // nil selects everything
}

func compileFilter(spec v1alpha1.RestoreSpec) (*filter, error) {
	f := &filter{}
	globs := []struct {
		field string
		in    []string
		out   *[]string
	}{
		{"includedNamespaces", spec.IncludedNamespaces, &f.nsInclude},
		{"excludedNamespaces", spec.ExcludedNamespaces, &f.nsExclude},
		{"includedResources", spec.IncludedResources, &f.resInclude},
		{"excludedResources", spec.ExcludedResources, &f.resExclude},
	}
	for _, g := range globs {
		clean, err := compileGlobs("spec."+g.field, g.in)
		if err != nil {
			return nil, err
		}
		*g.out = clean
	}
	sel, err := compileSelector("spec.labelSelector", spec.LabelSelector)
	if err != nil {
		return nil, err
	}
	f.selector = sel
	return f, nil
}

func compileSelector(field string, ls *metav1.LabelSelector) (labels.Selector, error) {
	if ls == nil {
		return nil, nil
	}
	s, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidSpec, field, err)
	}
	return s, nil
}

func (f *filter) namespaceSelected(ns string) bool {
	if len(f.nsInclude) > 0 && !globs.MatchAny(f.nsInclude, ns) {
		return false
	}
	return !globs.MatchAny(f.nsExclude, ns)
}

// allNamespaces reports whether the namespace globs select every
// namespace, as a whole-cluster restore does.
func (f *filter) allNamespaces() bool {
	return (len(f.nsInclude) == 0 || slices.Contains(f.nsInclude, "*")) && len(f.nsExclude) == 0
}

func (f *filter) resourceIncluded(gr schema.GroupResource) bool {
	return len(f.resInclude) == 0 || globs.MatchAny(f.resInclude, globs.ResourceNames(gr)...)
}

func (f *filter) resourceExcluded(gr schema.GroupResource) bool {
	return globs.MatchAny(f.resExclude, globs.ResourceNames(gr)...)
}

func (f *filter) labelsMatch(l map[string]string) bool {
	return f.selector == nil || f.selector.Matches(labels.Set(l))
}

// direct reports whether an object is selected for its own sake, without
// the dependency rules (see the package documentation).
func (f *filter) direct(o *decoded) bool {
	gr := o.gr
	if f.resourceExcluded(gr) || !f.resourceIncluded(gr) || !f.labelsMatch(o.u.GetLabels()) {
		return false
	}
	switch {
	case o.namespaced:
		return f.namespaceSelected(o.u.GetNamespace())
	case gr == grNamespaces:
		return f.namespaceSelected(o.u.GetName())
	default:
		// Cluster-scoped objects belong to no namespace: a restore of some
		// namespaces takes them only when includedResources names them.
		return f.allNamespaces() || len(f.resInclude) > 0
	}
}

// selectObjects returns which objects the filter keeps: those selected
// directly, and the dependencies of namespaced ones: their Namespace, the
// CRD of a custom resource, the PersistentVolume bound to a claim.
// excludedResources still removes dependencies: the user named them.
func (f *filter) selectObjects(objs []*decoded) []bool {
	keep := make([]bool, len(objs))
	namespaces := map[string]bool{}
	resources := map[string]bool{}
	claims := map[string]bool{}
	for i, o := range objs {
		if !f.direct(o) {
			continue
		}
		keep[i] = true
		if o.namespaced {
			namespaces[o.u.GetNamespace()] = true
			resources[o.gr.String()] = true
		}
		if o.gr == grPVCs {
			claims[o.u.GetNamespace()+"/"+o.u.GetName()] = true
		}
	}
	for i, o := range objs {
		if keep[i] || o.namespaced || f.resourceExcluded(o.gr) {
			continue
		}
		switch o.gr {
		case grNamespaces:
			keep[i] = namespaces[o.u.GetName()]
		case grCRDs:
			keep[i] = resources[o.u.GetName()]
		case grPVs:
			keep[i] = claims[claimKey(o.u)]
		}
	}
	return keep
}

// claimKey is "namespace/name" of the claim a PV's claimRef names, or "".
func claimKey(pv *unstructured.Unstructured) string {
	ns, _, _ := nestedString(pv.Object, "spec", "claimRef", "namespace")
	name, _, _ := nestedString(pv.Object, "spec", "claimRef", "name")
	if name == "" {
		return ""
	}
	return ns + "/" + name
}

// compileGlobs validates patterns with the shared rules and marks errors as
// an invalid spec.
func compileGlobs(field string, patterns []string) ([]string, error) {
	out, err := globs.Compile(field, patterns)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	return out, nil
}
