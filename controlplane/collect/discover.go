package collect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// apiResource is one resource Collect may list, at the version it reads.
type apiResource struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
}

func (r apiResource) gr() schema.GroupResource { return r.gvr.GroupResource() }

// discover returns every resource served at its group's preferred version
// (or, for a resource the preferred version does not serve, at the first
// version that does) that can be listed, read and created, sorted by group
// and resource. Groups whose discovery failed, typically aggregated APIs
// whose backing service is down, become warnings: the rest of the cluster
// is still worth backing up.
func discover(ctx context.Context, d discovery.DiscoveryInterface) ([]apiResource, []string, error) {
	lists, err := discovery.ServerPreferredResourcesWithContext(ctx, discovery.ToDiscoveryInterfaceWithContext(d))
	var warnings []string
	if err != nil {
		failed, ok := discovery.GroupDiscoveryFailedErrorGroups(err)
		if !ok {
			return nil, nil, fmt.Errorf("discover API resources: %w", err)
		}
		for gv, gerr := range failed {
			warnings = append(warnings, fmt.Sprintf("API group %s was not backed up: discovery failed: %v", gv, gerr))
		}
		slices.Sort(warnings)
	}
	var out []apiResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			return nil, nil, fmt.Errorf("discover API resources: group version %q: %w", l.GroupVersion, err)
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerbs(r, "list", "get", "create") {
				continue
			}
			out = append(out, apiResource{gvr: gv.WithResource(r.Name), kind: r.Kind, namespaced: r.Namespaced})
		}
	}
	slices.SortFunc(out, func(a, b apiResource) int { return compareGR(a.gr(), b.gr()) })
	return out, warnings, nil
}

func hasVerbs(r metav1.APIResource, verbs ...string) bool {
	for _, v := range verbs {
		if !slices.Contains(r.Verbs, v) {
			return false
		}
	}
	return true
}

func compareGR(a, b schema.GroupResource) int {
	if c := strings.Compare(a.Group, b.Group); c != 0 {
		return c
	}
	return strings.Compare(a.Resource, b.Resource)
}
