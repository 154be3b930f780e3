package collect

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/cairnbackup/cairn/controlplane/globs"
)

// Deps are the API clients Collect reads through.
type Deps struct {
	Discovery discovery.DiscoveryInterface
	Dynamic   dynamic.Interface
}

// Item is one collected API object.
type Item struct {
	GroupResource schema.GroupResource
	// Version is the API version the object was read at: its group's
	// preferred version.
	Version    string
	Namespaced bool
	Object     *unstructured.Unstructured
}

// Result is what Collect found.
type Result struct {
	// Items are sorted by group, resource, namespace and name.
	Items []Item
	// Warnings name what could not be backed up and why, for the Backup's
	// status; they do not fail the backup.
	Warnings []string
}

// ErrNamespaceNotFound means spec.includedNamespaces names, literally, a
// namespace the cluster does not have.
var ErrNamespaceNotFound = errors.New("included namespace not found")

// listPageSize bounds one List response. 500 is what kubectl uses: large
// enough that few clusters need a second page, small enough that the API
// server and the controller never hold a huge list at once.
const listPageSize = 500

var namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// Collect lists the API objects that f selects, following the rules in the
// package documentation.
func Collect(ctx context.Context, deps Deps, f Filter) (*Result, error) {
	m, err := f.compile()
	if err != nil {
		return nil, err
	}
	resources, warnings, err := discover(ctx, deps.Discovery)
	if err != nil {
		return nil, err
	}
	c := &collector{deps: deps, m: m, warnings: warnings, items: map[itemKey]Item{},
		resources: map[schema.GroupResource]apiResource{}}
	for _, r := range resources {
		c.resources[r.gr()] = r
	}
	if err := c.selectNamespaces(ctx); err != nil {
		return nil, err
	}
	for _, r := range resources {
		if err := c.collectResource(ctx, r); err != nil {
			return nil, err
		}
	}
	if err := c.addDependencies(ctx); err != nil {
		return nil, err
	}
	return &Result{Items: c.sorted(), Warnings: c.warnings}, nil
}

type itemKey struct {
	gr        schema.GroupResource
	namespace string
	name      string
}

// collector holds the state of one Collect call.
type collector struct {
	deps      Deps
	m         *matcher
	resources map[schema.GroupResource]apiResource
	// namespaces are the selected namespaces that exist, by name.
	namespaces map[string]*unstructured.Unstructured
	items      map[itemKey]Item
	warnings   []string
}

func (c *collector) warnf(format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
}

// selectNamespaces lists the cluster's namespaces and keeps the selected
// ones. A literal name in includedNamespaces that does not exist is an
// error: the user asked for something specific and would otherwise get an
// empty backup that looks successful.
func (c *collector) selectNamespaces(ctx context.Context) error {
	all, err := c.listPages(ctx, c.deps.Dynamic.Resource(namespacesGVR), "")
	if err != nil {
		return fmt.Errorf("list namespaces: %w", err)
	}
	exists := map[string]bool{}
	c.namespaces = map[string]*unstructured.Unstructured{}
	for i := range all {
		ns := &all[i]
		exists[ns.GetName()] = true
		if c.m.namespaceSelected(ns.GetName()) {
			c.namespaces[ns.GetName()] = ns
		}
	}
	var missing []string
	for _, p := range c.m.nsInclude {
		if !globs.IsGlob(p) && !exists[p] {
			missing = append(missing, fmt.Sprintf("%q", p))
		} else if globs.IsGlob(p) && !matchesAnyName(p, exists) {
			c.warnf("spec.includedNamespaces pattern %q matches no namespace", p)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: namespace %s in spec.includedNamespaces does not exist; fix the Backup's includedNamespaces (create the namespace first, or remove it from the list)",
			ErrNamespaceNotFound, missing[0])
	}
	return fmt.Errorf("%w: namespaces %s in spec.includedNamespaces do not exist; fix the Backup's includedNamespaces (create them first, or remove them from the list)",
		ErrNamespaceNotFound, strings.Join(missing, ", "))
}

func matchesAnyName(pattern string, names map[string]bool) bool {
	for n := range names {
		if globs.MatchAny([]string{pattern}, n) {
			return true
		}
	}
	return false
}

// collectResource lists one resource in the selected scope.
func (c *collector) collectResource(ctx context.Context, r apiResource) error {
	gr := r.gr()
	if _, never := neverBackedUp[gr]; never || c.m.resourceExcluded(gr) || !c.m.resourceIncluded(gr) {
		return nil
	}
	switch {
	case !r.namespaced && !c.m.clusterScopedIncluded():
		return nil
	case !r.namespaced, c.m.includesEverything():
		// One list across all namespaces costs less than one per
		// namespace; excluded namespaces are dropped afterwards.
		return c.listInto(ctx, r, metav1.NamespaceAll)
	}
	for _, ns := range slices.Sorted(maps.Keys(c.namespaces)) {
		if err := c.listInto(ctx, r, ns); err != nil {
			return err
		}
	}
	return nil
}

// listInto lists r in namespace ns ("" for all, or for a cluster-scoped
// resource) once per label selector and adds what it keeps.
func (c *collector) listInto(ctx context.Context, r apiResource, ns string) error {
	var selectorServices map[string]bool
	if r.gr() == endpointsGR {
		var err error
		if selectorServices, err = c.servicesWithSelector(ctx, ns); err != nil {
			return c.listFailed(r.gr(), ns, err)
		}
	}
	for _, sel := range c.m.listSelectors() {
		objs, err := c.listPages(ctx, resourceClient(c.deps.Dynamic, r, ns), sel)
		if err != nil {
			return c.listFailed(r.gr(), ns, err)
		}
		for i := range objs {
			obj := &objs[i]
			if c.inScope(r, obj) && !rebuiltByController(r.gr(), obj, selectorServices) {
				c.add(r, obj)
			}
		}
	}
	return nil
}

// inScope drops objects outside the selected namespaces, which lists
// across all namespaces return.
func (c *collector) inScope(r apiResource, obj *unstructured.Unstructured) bool {
	if r.gr() == namespacesGR {
		return c.namespaces[obj.GetName()] != nil
	}
	return !r.namespaced || c.namespaces[obj.GetNamespace()] != nil
}

// listFailed turns errors that concern only this resource (it went away,
// cairn may not read it, it cannot be listed after all) into warnings, so
// that one aggregated API does not fail the backup of the whole cluster.
// Anything else fails Collect: the backup would be silently incomplete.
func (c *collector) listFailed(gr schema.GroupResource, ns string, err error) error {
	where := "in all namespaces"
	if ns != "" {
		where = "in namespace " + ns
	}
	switch {
	case apierrors.IsForbidden(err):
		c.warnf("%s %s were not backed up: %v; grant cairn's controller list on them", gr, where, err)
		return nil
	case apierrors.IsNotFound(err), apierrors.IsMethodNotSupported(err):
		c.warnf("%s %s were not backed up: %v", gr, where, err)
		return nil
	}
	return fmt.Errorf("list %s %s: %w", gr, where, err)
}

func resourceClient(d dynamic.Interface, r apiResource, ns string) dynamic.ResourceInterface {
	if r.namespaced && ns != "" {
		return d.Resource(r.gvr).Namespace(ns)
	}
	return d.Resource(r.gvr)
}

// listPages lists every object, a page at a time. If the continue token
// expires between pages, it lists again in one request, as kubectl does.
func (c *collector) listPages(ctx context.Context, ri dynamic.ResourceInterface, selector string) ([]unstructured.Unstructured, error) {
	opts := metav1.ListOptions{LabelSelector: selector, Limit: listPageSize}
	var out []unstructured.Unstructured
	for {
		l, err := ri.List(ctx, opts)
		if apierrors.IsResourceExpired(err) && opts.Continue != "" {
			l, err = ri.List(ctx, metav1.ListOptions{LabelSelector: selector})
			out = nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if l.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = l.GetContinue()
	}
}

// servicesWithSelector returns "namespace/name" of the Services in ns that
// have a selector: the endpoints controller owns their Endpoints.
func (c *collector) servicesWithSelector(ctx context.Context, ns string) (map[string]bool, error) {
	svc, ok := c.resources[servicesGR]
	if !ok {
		return nil, nil
	}
	objs, err := c.listPages(ctx, resourceClient(c.deps.Dynamic, svc, ns), "")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, o := range objs {
		if sel, _, _ := unstructured.NestedStringMap(o.Object, "spec", "selector"); len(sel) > 0 {
			out[o.GetNamespace()+"/"+o.GetName()] = true
		}
	}
	return out, nil
}

// add records obj, filling in the apiVersion and kind that list items of
// built-in types may lack.
func (c *collector) add(r apiResource, obj *unstructured.Unstructured) {
	if obj.GetAPIVersion() == "" {
		obj.SetAPIVersion(r.gvr.GroupVersion().String())
	}
	if obj.GetKind() == "" {
		obj.SetKind(r.kind)
	}
	key := itemKey{gr: r.gr(), namespace: obj.GetNamespace(), name: obj.GetName()}
	c.items[key] = Item{GroupResource: r.gr(), Version: r.gvr.Version, Namespaced: r.namespaced, Object: obj}
}

func (c *collector) has(gr schema.GroupResource, ns, name string) bool {
	_, ok := c.items[itemKey{gr: gr, namespace: ns, name: name}]
	return ok
}

// sorted returns the items by group, resource, namespace and name.
func (c *collector) sorted() []Item {
	keys := slices.SortedFunc(maps.Keys(c.items), func(a, b itemKey) int {
		if d := compareGR(a.gr, b.gr); d != 0 {
			return d
		}
		if d := strings.Compare(a.namespace, b.namespace); d != 0 {
			return d
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]Item, len(keys))
	for i, k := range keys {
		out[i] = c.items[k]
	}
	return out
}
