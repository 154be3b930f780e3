package restoreplan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/globs"
)

// initHook is a RestoreResourceHook with init containers, compiled.
type initHook struct {
	name                 string
	nsInclude, nsExclude []string
	selector             labels.Selector // nil selects every pod
	containers           []any           // unstructured corev1.Container
}

func compileHooks(hooks []v1alpha1.RestoreResourceHook) ([]initHook, error) {
	var out []initHook
	for i, h := range hooks {
		if len(h.InitContainers) == 0 {
			continue
		}
		field := fmt.Sprintf("spec.hooks[%d]", i)
		ih := initHook{name: h.Name}
		var err error
		if ih.nsInclude, err = compileGlobs(field+".includedNamespaces", h.IncludedNamespaces); err != nil {
			return nil, err
		}
		if ih.nsExclude, err = compileGlobs(field+".excludedNamespaces", h.ExcludedNamespaces); err != nil {
			return nil, err
		}
		if ih.selector, err = compileSelector(field+".labelSelector", h.LabelSelector); err != nil {
			return nil, err
		}
		for j := range h.InitContainers {
			c := &h.InitContainers[j]
			if msgs := validation.IsDNS1123Label(c.Name); len(msgs) > 0 {
				return nil, fmt.Errorf("%w: %s.initContainers[%d].name %q: %s", ErrInvalidSpec, field, j, c.Name, msgs[0])
			}
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
			if err != nil {
				return nil, fmt.Errorf("%w: %s.initContainers[%d]: %w", ErrInvalidSpec, field, j, err)
			}
			ih.containers = append(ih.containers, m)
		}
		out = append(out, ih)
	}
	return out, nil
}

// selects reports whether the hook applies to pods in namespace ns (as
// restored) with labels l.
func (h *initHook) selects(ns string, l map[string]string) bool {
	if len(h.nsInclude) > 0 && !globs.MatchAny(h.nsInclude, ns) {
		return false
	}
	if globs.MatchAny(h.nsExclude, ns) {
		return false
	}
	return h.selector == nil || h.selector.Matches(labels.Set(l))
}

// injectInitContainers puts the init containers of every hook that selects
// the object's pods at the front of their init containers, in the order of
// the hooks. An init container of the same name already there (left by an
// earlier restore of a restored object) is replaced, so that injecting
// twice yields what injecting once does.
func injectInitContainers(gr schema.GroupResource, u *unstructured.Unstructured, hooks []initHook) error {
	specPath, ok := podSpecPaths[gr]
	if !ok || len(hooks) == 0 {
		return nil
	}
	podLabels, _, err := unstructured.NestedStringMap(u.Object, podLabelsPath(gr)...)
	if err != nil {
		return err
	}
	var injected []any
	names := map[string]bool{}
	for i := range hooks {
		if !hooks[i].selects(u.GetNamespace(), podLabels) {
			continue
		}
		for _, c := range hooks[i].containers {
			// Two hooks with a container of the same name: the first wins,
			// as a pod cannot have both.
			if name := c.(map[string]any)["name"].(string); !names[name] {
				injected = append(injected, c)
				names[name] = true
			}
		}
	}
	if len(injected) == 0 {
		return nil
	}
	initPath := append(append([]string{}, specPath...), "initContainers")
	existing, _, err := nestedSlice(u.Object, initPath...)
	if err != nil {
		return err
	}
	for _, c := range existing {
		m, _ := c.(map[string]any)
		if name, _ := m["name"].(string); !names[name] {
			injected = append(injected, c)
		}
	}
	return unstructured.SetNestedField(u.Object, injected, initPath...)
}
