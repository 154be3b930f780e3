package collect

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
)

// fakeResource is one resource the fake discovery serves.
type fakeResource struct {
	gv, name, kind string
	namespaced     bool
	verbs          []string
}

var allVerbs = []string{"create", "delete", "get", "list", "patch", "update", "watch"}

// fakeResources are served in this order; within a group the first
// version listed is the preferred one.
var fakeResources = []fakeResource{
	{"v1", "namespaces", "Namespace", false, allVerbs},
	{"v1", "nodes", "Node", false, allVerbs},
	{"v1", "persistentvolumes", "PersistentVolume", false, allVerbs},
	{"v1", "componentstatuses", "ComponentStatus", false, []string{"get", "list"}},
	{"v1", "bindings", "Binding", true, []string{"create"}},
	{"v1", "configmaps", "ConfigMap", true, allVerbs},
	{"v1", "secrets", "Secret", true, allVerbs},
	{"v1", "pods", "Pod", true, allVerbs},
	{"v1", "pods/log", "Pod", true, []string{"get"}},
	{"v1", "services", "Service", true, allVerbs},
	{"v1", "endpoints", "Endpoints", true, allVerbs},
	{"v1", "events", "Event", true, allVerbs},
	{"v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, allVerbs},
	{"apps/v1", "deployments", "Deployment", true, allVerbs},
	{"apps/v1", "replicasets", "ReplicaSet", true, allVerbs},
	{"apps/v1", "controllerrevisions", "ControllerRevision", true, allVerbs},
	{"discovery.k8s.io/v1", "endpointslices", "EndpointSlice", true, allVerbs},
	{"events.k8s.io/v1", "events", "Event", true, allVerbs},
	{"coordination.k8s.io/v1", "leases", "Lease", true, allVerbs},
	{"rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", false, allVerbs},
	{"authorization.k8s.io/v1", "subjectaccessreviews", "SubjectAccessReview", false, []string{"create"}},
	{"apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition", false, allVerbs},
	{"example.com/v1", "widgets", "Widget", true, allVerbs},
	{"example.com/v1", "gadgets", "Gadget", false, allVerbs},
	{"example.com/v1beta1", "widgets", "Widget", true, allVerbs},
	{"example.com/v1beta1", "oldthings", "OldThing", true, allVerbs},
	{"cairn.dev/v1alpha1", "backups", "Backup", true, allVerbs},
	{"cairn.dev/v1alpha1", "volumebackups", "VolumeBackup", true, allVerbs},
	{"cairn.dev/v1alpha1", "schedules", "Schedule", true, allVerbs},
}

func (r fakeResource) gvr() schema.GroupVersionResource {
	gv, _ := schema.ParseGroupVersion(r.gv)
	return gv.WithResource(r.name)
}

// fakeCluster is a fake discovery and a fake dynamic client that agree.
type fakeCluster struct {
	t   *testing.T
	dis *fakediscovery.FakeDiscovery
	dyn *dynamicfake.FakeDynamicClient
}

func newFakeCluster(t *testing.T) *fakeCluster {
	t.Helper()
	dis := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}}
	lists := map[string]*metav1.APIResourceList{}
	listKinds := map[schema.GroupVersionResource]string{}
	for _, r := range fakeResources {
		l := lists[r.gv]
		if l == nil {
			l = &metav1.APIResourceList{GroupVersion: r.gv}
			lists[r.gv] = l
			dis.Resources = append(dis.Resources, l)
		}
		l.APIResources = append(l.APIResources, metav1.APIResource{
			Name: r.name, Kind: r.kind, Namespaced: r.namespaced, Verbs: r.verbs})
		if !strings.Contains(r.name, "/") {
			listKinds[r.gvr()] = r.kind + "List"
		}
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds)
	return &fakeCluster{t: t, dis: dis, dyn: dyn}
}

func (c *fakeCluster) deps() Deps { return Deps{Discovery: c.dis, Dynamic: c.dyn} }

// add stores obj as resource "name" or "name.group" (at the group's first
// listed version).
func (c *fakeCluster) add(resource string, obj *unstructured.Unstructured) {
	c.t.Helper()
	for _, r := range fakeResources {
		gvr := r.gvr()
		full := r.name
		if gvr.Group != "" {
			full += "." + gvr.Group
		}
		if full != resource {
			continue
		}
		obj.SetAPIVersion(r.gv)
		obj.SetKind(r.kind)
		if err := c.dyn.Tracker().Create(gvr, obj, obj.GetNamespace()); err != nil {
			c.t.Fatalf("add %s %s: %v", resource, obj.GetName(), err)
		}
		return
	}
	c.t.Fatalf("add: no fake resource %q", resource)
}

// object builds an object with labels given as "k=v" strings.
func object(ns, name string, labels ...string) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{}}
	o.SetNamespace(ns)
	o.SetName(name)
	if len(labels) > 0 {
		m := map[string]string{}
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			m[k] = v
		}
		o.SetLabels(m)
	}
	return o
}

func with(o *unstructured.Unstructured, value any, fields ...string) *unstructured.Unstructured {
	if err := unstructured.SetNestedField(o.Object, value, fields...); err != nil {
		panic(err)
	}
	return o
}

func ownedBy(o *unstructured.Unstructured, kind, name string, controller bool) *unstructured.Unstructured {
	o.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name,
		UID: types.UID("uid-" + name), Controller: &controller}})
	return o
}

// newWorld is the cluster the filter tests run against.
func newWorld(t *testing.T) *fakeCluster {
	c := newFakeCluster(t)
	c.add("namespaces", object("", "shop", "team=a"))
	for _, ns := range []string{"shop-dev", "other", "kube-system"} {
		c.add("namespaces", object("", ns))
	}
	c.add("configmaps", object("shop", "cfg", "app=web"))
	c.add("secrets", object("shop", "creds", "app=db"))
	c.add("deployments.apps", object("shop", "web", "app=web"))
	c.add("replicasets.apps", ownedBy(object("shop", "web-123"), "Deployment", "web", true))
	c.add("pods", ownedBy(object("shop", "web-123-abc"), "ReplicaSet", "web-123", true))
	c.add("pods", ownedBy(object("shop", "helper"), "ConfigMap", "cfg", false))
	c.add("pods", object("shop", "bare"))
	c.add("services", with(object("shop", "web"), map[string]any{"app": "web"}, "spec", "selector"))
	c.add("endpoints", object("shop", "web"))
	c.add("services", with(object("shop", "ext"), "ClusterIP", "spec", "type"))
	c.add("endpoints", object("shop", "ext"))
	c.add("endpointslices.discovery.k8s.io", object("shop", "web-xyz", endpointSliceManagedBy+"="+endpointSliceController))
	c.add("endpointslices.discovery.k8s.io", object("shop", "ext-abc", endpointSliceManagedBy+"="+endpointSliceMirroring))
	c.add("endpointslices.discovery.k8s.io", object("shop", "custom", endpointSliceManagedBy+"=me"))
	c.add("events", object("shop", "ev1"))
	c.add("events.events.k8s.io", object("shop", "ev2"))
	c.add("leases.coordination.k8s.io", object("shop", "lock"))
	c.add("controllerrevisions.apps", object("shop", "web-rev"))
	c.add("persistentvolumeclaims", with(object("shop", "data"), "pv-data", "spec", "volumeName"))
	c.add("widgets.example.com", object("shop", "w1", "app=web"))
	c.add("backups.cairn.dev", object("shop", "b1"))
	c.add("volumebackups.cairn.dev", object("shop", "vb1"))
	c.add("schedules.cairn.dev", object("shop", "daily"))
	c.add("configmaps", object("shop-dev", "cfg", "app=web"))
	c.add("configmaps", object("other", "x", "app=db"))
	c.add("persistentvolumeclaims", with(object("other", "other-data"), "pv-other", "spec", "volumeName"))
	c.add("persistentvolumeclaims", object("other", "pending"))
	c.add("configmaps", object("kube-system", "kube-root"))
	for _, pv := range []string{"pv-data", "pv-other", "pv-unbound"} {
		c.add("persistentvolumes", object("", pv))
	}
	c.add("nodes", object("", "n1"))
	c.add("clusterroles.rbac.authorization.k8s.io", object("", "admin"))
	c.add("customresourcedefinitions.apiextensions.k8s.io", object("", "widgets.example.com"))
	c.add("customresourcedefinitions.apiextensions.k8s.io", object("", "gadgets.example.com"))
	c.add("gadgets.example.com", object("", "g1"))
	return c
}

// failingDiscovery fails discovery of one group version, as an aggregated
// API with its service down does.
type failingDiscovery struct {
	*fakediscovery.FakeDiscovery
	fail string
}

func (d failingDiscovery) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	return d.ServerResourcesForGroupVersionWithContext(context.Background(), gv)
}

func (d failingDiscovery) ServerResourcesForGroupVersionWithContext(ctx context.Context, gv string) (*metav1.APIResourceList, error) {
	if gv == d.fail {
		return nil, errors.New("the server is currently unable to handle the request")
	}
	return d.FakeDiscovery.ServerResourcesForGroupVersionWithContext(ctx, gv)
}
