package collect

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The tree layout of a resources snapshot; see the package documentation.
const (
	// TreeRoot is the snapshot's only top-level directory.
	TreeRoot = "resources"
	// CoreGroupDir stands for the core group, whose name is empty.
	CoreGroupDir = "core"
	// ClusterScopeDir holds cluster-scoped objects in place of a namespace.
	// No namespace can have this name: namespace names are DNS labels.
	ClusterScopeDir = "_cluster"
	// FileSuffix ends every object's file name.
	FileSuffix = ".json"
)

// Path returns where the item is stored in a resources snapshot:
// resources/<group or "core">/<resource>/<namespace or "_cluster">/<name>.json.
func (it Item) Path() string {
	return strings.Join(append([]string{TreeRoot}, it.pathParts()...), "/")
}

// pathParts are the path elements under TreeRoot.
func (it Item) pathParts() []string {
	group := it.GroupResource.Group
	if group == "" {
		group = CoreGroupDir
	}
	ns := ClusterScopeDir
	if it.Namespaced {
		ns = it.Object.GetNamespace()
	}
	return []string{group, it.GroupResource.Resource, ns, it.Object.GetName() + FileSuffix}
}

// checkItem rejects items that cannot be stored under a unique,
// reversible path.
func checkItem(it Item) error {
	if it.Object == nil {
		return fmt.Errorf("item of %s has no object", it.GroupResource)
	}
	ns, name := it.Object.GetNamespace(), it.Object.GetName()
	switch {
	case it.GroupResource.Resource == "":
		return fmt.Errorf("object %q has no resource", name)
	case name == "":
		return fmt.Errorf("%s object in namespace %q has no name", it.GroupResource, ns)
	case it.Namespaced && ns == "":
		return fmt.Errorf("%s %s is namespaced but has no namespace", it.GroupResource, name)
	case !it.Namespaced && ns != "":
		return fmt.Errorf("%s %s is cluster-scoped but has namespace %q", it.GroupResource, name, ns)
	}
	for _, p := range it.pathParts() {
		if !validElem(p) {
			return fmt.Errorf("%s: %q cannot be a path element", it.Path(), p)
		}
	}
	return nil
}

func validElem(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

// location is what a path under TreeRoot says about its object.
type location struct {
	gr         schema.GroupResource
	namespace  string // "" when cluster-scoped
	name       string
	namespaced bool
}

// parseLocation reverses pathParts. The group "core" is ambiguous on its
// own (a group could be named so); the caller checks it against the
// object's apiVersion.
func parseLocation(group, resource, ns, file string) (location, error) {
	name, ok := strings.CutSuffix(file, FileSuffix)
	if !ok || name == "" {
		return location{}, fmt.Errorf("file name %q does not end in %s", file, FileSuffix)
	}
	if group == CoreGroupDir {
		group = ""
	}
	l := location{gr: schema.GroupResource{Group: group, Resource: resource}, name: name, namespaced: ns != ClusterScopeDir}
	if l.namespaced {
		l.namespace = ns
	}
	return l, nil
}
