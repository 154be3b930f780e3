package collect

import (
	"errors"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/globs"
)

// ErrInvalidFilter marks a Backup spec whose filters cannot be applied. The
// message names the spec field to fix.
var ErrInvalidFilter = errors.New("invalid backup filter")

// Filter selects the API objects of one backup. Its fields mean what the
// BackupSpec fields of the same names mean; see the package documentation
// for the rules.
type Filter struct {
	IncludedNamespaces      []string
	ExcludedNamespaces      []string
	IncludedResources       []string
	ExcludedResources       []string
	IncludeClusterResources *bool
	LabelSelector           *metav1.LabelSelector
	OrLabelSelectors        []*metav1.LabelSelector
}

// FilterFrom takes the filter fields of a Backup spec. It does not
// validate them: Collect does, and so does Validate for callers that want
// to reject a spec before doing any work.
func FilterFrom(spec v1alpha1.BackupSpec) Filter {
	return Filter{
		IncludedNamespaces:      spec.IncludedNamespaces,
		ExcludedNamespaces:      spec.ExcludedNamespaces,
		IncludedResources:       spec.IncludedResources,
		ExcludedResources:       spec.ExcludedResources,
		IncludeClusterResources: spec.IncludeClusterResources,
		LabelSelector:           spec.LabelSelector,
		OrLabelSelectors:        spec.OrLabelSelectors,
	}
}

// Validate reports the first problem that would stop Collect from applying
// the filter, wrapped in ErrInvalidFilter.
func (f Filter) Validate() error {
	_, err := f.compile()
	return err
}

// matcher is a validated Filter.
type matcher struct {
	nsInclude, nsExclude   []string
	resInclude, resExclude []string
	cluster                *bool
	// selectors are ORed; empty means every object.
	selectors []labels.Selector
}

func (f Filter) compile() (*matcher, error) {
	m := &matcher{cluster: f.IncludeClusterResources}
	lists := []struct {
		field string
		in    []string
		out   *[]string
	}{
		{"includedNamespaces", f.IncludedNamespaces, &m.nsInclude},
		{"excludedNamespaces", f.ExcludedNamespaces, &m.nsExclude},
		{"includedResources", f.IncludedResources, &m.resInclude},
		{"excludedResources", f.ExcludedResources, &m.resExclude},
	}
	for _, g := range lists {
		clean, err := globs.Compile("spec."+g.field, g.in)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidFilter, err)
		}
		*g.out = clean
	}
	sels, err := compileSelectors(f.LabelSelector, f.OrLabelSelectors)
	if err != nil {
		return nil, err
	}
	m.selectors = sels
	return m, nil
}

func compileSelectors(one *metav1.LabelSelector, or []*metav1.LabelSelector) ([]labels.Selector, error) {
	if one != nil && len(or) > 0 {
		return nil, fmt.Errorf("%w: spec.labelSelector and spec.orLabelSelectors are exclusive; set only one of them", ErrInvalidFilter)
	}
	if one != nil {
		s, err := metav1.LabelSelectorAsSelector(one)
		if err != nil {
			return nil, fmt.Errorf("%w: spec.labelSelector: %w", ErrInvalidFilter, err)
		}
		return []labels.Selector{s}, nil
	}
	out := make([]labels.Selector, 0, len(or))
	for i, ls := range or {
		if ls == nil {
			return nil, fmt.Errorf("%w: spec.orLabelSelectors[%d] is null; remove it", ErrInvalidFilter, i)
		}
		s, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			return nil, fmt.Errorf("%w: spec.orLabelSelectors[%d]: %w", ErrInvalidFilter, i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// allNamespaces reports whether every namespace, present and future, is
// selected: no includes (or "*") and no excludes.
func (m *matcher) allNamespaces() bool {
	return m.includesEverything() && len(m.nsExclude) == 0
}

func (m *matcher) includesEverything() bool {
	return len(m.nsInclude) == 0 || slices.Contains(m.nsInclude, "*")
}

// wholeNamespaces reports whether the filter takes everything in the
// namespaces it selects: no label selector and no resource includes.
func (m *matcher) wholeNamespaces() bool {
	return len(m.selectors) == 0 && (len(m.resInclude) == 0 || slices.Contains(m.resInclude, "*"))
}

// namespaceSelected applies the namespace globs.
func (m *matcher) namespaceSelected(ns string) bool {
	if len(m.nsInclude) > 0 && !globs.MatchAny(m.nsInclude, ns) {
		return false
	}
	return !globs.MatchAny(m.nsExclude, ns)
}

// resourceIncluded applies the include globs (empty means all).
func (m *matcher) resourceIncluded(gr schema.GroupResource) bool {
	return len(m.resInclude) == 0 || globs.MatchAny(m.resInclude, globs.ResourceNames(gr)...)
}

// resourceExcluded applies the exclude globs. They win over everything,
// including the dependencies restore needs: the user named them.
func (m *matcher) resourceExcluded(gr schema.GroupResource) bool {
	return globs.MatchAny(m.resExclude, globs.ResourceNames(gr)...)
}

// clusterScopedIncluded says whether cluster-scoped resources are listed
// for their own sake (dependencies are added either way).
func (m *matcher) clusterScopedIncluded() bool {
	if m.cluster != nil {
		return *m.cluster
	}
	return m.allNamespaces()
}

// listSelectors are the label selectors to list with, one List call each,
// results ORed; a single "" means every object.
func (m *matcher) listSelectors() []string {
	if len(m.selectors) == 0 {
		return []string{""}
	}
	out := make([]string, len(m.selectors))
	for i, s := range m.selectors {
		out[i] = s.String()
	}
	return out
}
