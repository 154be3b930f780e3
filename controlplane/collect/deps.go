package collect

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// addDependencies adds the cluster-scoped objects that restoring the
// collected namespaced objects needs, whatever IncludeClusterResources and
// IncludedResources say: the Namespaces, the PersistentVolumes bound to
// collected claims, and the CustomResourceDefinitions of collected custom
// resources. ExcludedResources still wins: the user named them.
func (c *collector) addDependencies(ctx context.Context) error {
	c.addNamespaces()
	if err := c.addBoundVolumes(ctx); err != nil {
		return err
	}
	return c.addDefinitions(ctx)
}

// addNamespaces adds the Namespace objects of the selected namespaces,
// empty ones included, when the filter selects whole namespaces. With a
// label selector or included resources, only the namespaces that hold a
// collected object are added: the filter picks objects, not namespaces.
func (c *collector) addNamespaces() {
	r, ok := c.resources[namespacesGR]
	if !ok || c.m.resourceExcluded(namespacesGR) {
		return
	}
	needed := c.namespaces
	if !c.m.wholeNamespaces() {
		needed = map[string]*unstructured.Unstructured{}
		for k := range c.items {
			if ns := c.namespaces[k.namespace]; ns != nil {
				needed[k.namespace] = ns
			}
		}
	}
	for name, ns := range needed {
		if !c.has(namespacesGR, "", name) {
			c.add(r, ns)
		}
	}
}

// addBoundVolumes adds the PersistentVolume each collected claim is bound
// to: it records the CSI driver and volume handle that restore needs.
func (c *collector) addBoundVolumes(ctx context.Context) error {
	r, ok := c.resources[pvsGR]
	if !ok || c.m.resourceExcluded(pvsGR) {
		return nil
	}
	for _, it := range c.sorted() {
		if it.GroupResource != pvcsGR {
			continue
		}
		pv, _, _ := unstructured.NestedString(it.Object.Object, "spec", "volumeName")
		if pv == "" || c.has(pvsGR, "", pv) {
			continue
		}
		obj, err := c.deps.Dynamic.Resource(r.gvr).Get(ctx, pv, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			c.warnf("PersistentVolume %s, bound to PersistentVolumeClaim %s/%s, was not found and was not backed up",
				pv, it.Object.GetNamespace(), it.Object.GetName())
			continue
		case err != nil:
			return fmt.Errorf("get PersistentVolume %s bound to claim %s/%s: %w", pv, it.Object.GetNamespace(), it.Object.GetName(), err)
		}
		c.add(r, obj)
	}
	return nil
}

// addDefinitions adds the CustomResourceDefinition of every collected
// custom resource. A CRD is named "<plural>.<group>"; a resource with no
// such CRD is built in or served by an aggregated API, and needs none.
// CRD groups always contain a dot, so groups without one are not looked up.
func (c *collector) addDefinitions(ctx context.Context) error {
	r, ok := c.resources[crdsGR]
	if !ok || c.m.resourceExcluded(crdsGR) {
		return nil
	}
	groups := map[schema.GroupResource]bool{}
	for k := range c.items {
		if strings.Contains(k.gr.Group, ".") {
			groups[k.gr] = true
		}
	}
	for _, gr := range slices.SortedFunc(maps.Keys(groups), compareGR) {
		name := gr.Resource + "." + gr.Group
		if c.has(crdsGR, "", name) {
			continue
		}
		obj, err := c.deps.Dynamic.Resource(r.gvr).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue
		case apierrors.IsForbidden(err):
			c.warnf("CustomResourceDefinition %s was not backed up: %v; grant cairn's controller get on it", name, err)
			continue
		case err != nil:
			return fmt.Errorf("get CustomResourceDefinition %s: %w", name, err)
		}
		c.add(r, obj)
	}
	return nil
}
