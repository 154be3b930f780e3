package restoreplan

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// cluster reads objects by resource, namespace and name.
type cluster struct {
	ctx context.Context
	t   *testing.T
	dyn dynamic.Interface
}

func (c cluster) get(g, version, ns, name string) *unstructured.Unstructured {
	c.t.Helper()
	obj, err := c.dyn.Resource(gr(g).WithVersion(version)).Namespace(ns).Get(c.ctx, name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatalf("get %s %s/%s: %v", g, ns, name, err)
	}
	return obj
}

func str(obj *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(obj.Object, fields...)
	return s
}

func first(obj *unstructured.Unstructured, fields ...string) map[string]any {
	l, _, _ := unstructured.NestedSlice(obj.Object, fields...)
	if len(l) == 0 {
		return nil
	}
	m, _ := l[0].(map[string]any)
	return m
}

// checkRestored compares the restored objects with the backup.
func checkRestored(ctx context.Context, t *testing.T, dyn dynamic.Interface, backup []Object, items []Item) {
	c := cluster{ctx, t, dyn}
	src := map[string]*unstructured.Unstructured{}
	for _, o := range backup {
		src[o.GroupResource.String()+"/"+o.Object.GetName()] = o.Object
	}
	for _, it := range items {
		live := c.get(it.GroupResource.String(), gvrOf(it.GroupResource.String(), it.Object).Version, it.Object.GetNamespace(), it.Object.GetName())
		if it.SourceUID == "" || live.GetUID() == it.SourceUID {
			t.Errorf("%s kept its uid", it.Ref())
		}
		if it.Namespaced && live.GetNamespace() != "shop-copy" {
			t.Errorf("%s restored into %q", it.Ref(), live.GetNamespace())
		}
	}
	if ns := c.get("namespaces", "v1", "", "shop-copy"); ns.GetLabels()["team"] != "a" {
		t.Errorf("namespace labels %v", ns.GetLabels())
	}
	checkServices(c, src)
	checkPodAndVolumes(c)
	checkRBACAndPolicies(c)
	checkWorkloads(c)
	if w := c.get("widgets.example.com", "v1", "shop-copy", "w1"); str(w, "spec", "color") != "blue" ||
		w.Object["status"].(map[string]any)["ready"] != true {
		t.Errorf("widget %s", toYAML(w.Object))
	}
}

func checkServices(c cluster, src map[string]*unstructured.Unstructured) {
	web, orig := c.get("services", "v1", "shop-copy", "web"), src["services/web"]
	if ip := str(web, "spec", "clusterIP"); ip == "" || ip == str(orig, "spec", "clusterIP") {
		c.t.Errorf("web clusterIP %q, backed up %q", ip, str(orig, "spec", "clusterIP"))
	}
	np, orig := c.get("services", "v1", "shop-copy", "web-np"), src["services/web-np"]
	if a, b := first(np, "spec", "ports")["nodePort"], first(orig, "spec", "ports")["nodePort"]; a == nil || a == b {
		c.t.Errorf("web-np nodePort %v, backed up %v", a, b)
	}
	if ip := str(c.get("services", "v1", "shop-copy", "db"), "spec", "clusterIP"); ip != "None" {
		c.t.Errorf("headless db clusterIP %q", ip)
	}
}

func checkPodAndVolumes(c cluster) {
	pod := c.get("pods", "v1", "shop-copy", "debug")
	if n := str(pod, "spec", "nodeName"); n != "" {
		c.t.Errorf("pod nodeName %q", n)
	}
	vols, _, _ := unstructured.NestedSlice(pod.Object, "spec", "volumes")
	// The backed-up token volume is gone; an admission plugin may add a
	// fresh one.
	tokens := 0
	for _, v := range vols {
		name := v.(map[string]any)["name"].(string)
		if strings.HasPrefix(name, serviceAccountVolumePrefix) {
			tokens++
		}
		if name == "kube-api-access-abcde" {
			tokens += 10
		}
	}
	if tokens > 1 {
		c.t.Errorf("pod has %d service account token volumes:\n%s", tokens, toYAML(vols))
	}
	pvc := c.get("persistentvolumeclaims", "v1", "shop-copy", "data")
	if str(pvc, "spec", "storageClassName") != "fast" || pvc.GetAnnotations()[annSelectedNode] != "" {
		c.t.Errorf("pvc %s", toYAML(pvc.Object))
	}
	sts := c.get("statefulsets.apps", "v1", "shop-copy", "db")
	if cls := first(sts, "spec", "volumeClaimTemplates")["spec"].(map[string]any)["storageClassName"]; cls != "fast" {
		c.t.Errorf("claim template class %v", cls)
	}
}

func checkRBACAndPolicies(c cluster) {
	rb := c.get("rolebindings.rbac.authorization.k8s.io", "v1", "shop-copy", "reader")
	if ns := first(rb, "subjects")["namespace"]; ns != "shop-copy" {
		c.t.Errorf("role binding subject namespace %v", ns)
	}
	np := c.get("networkpolicies.networking.k8s.io", "v1", "shop-copy", "same-namespace")
	peer := first(np, "spec", "ingress")["from"].([]any)[0].(map[string]any)
	if got := peer["namespaceSelector"].(map[string]any)["matchLabels"].(map[string]any)[labelNamespaceName]; got != "shop-copy" {
		c.t.Errorf("network policy selects namespace %v", got)
	}
}

func checkWorkloads(c cluster) {
	d := c.get("deployments.apps", "v1", "shop-copy", "web")
	rs := c.get("replicasets.apps", "v1", "shop-copy", "web-5d8f")
	if owners := rs.GetOwnerReferences(); len(owners) != 1 || owners[0].UID != d.GetUID() {
		c.t.Errorf("replica set owners %+v, deployment uid %s", owners, d.GetUID())
	}
	for _, obj := range []*unstructured.Unstructured{d, rs} {
		if name := first(obj, "spec", "template", "spec", "initContainers")["name"]; name != "warm-cache" {
			c.t.Errorf("%s: first init container %v", obj.GetName(), name)
		}
	}
	sts := c.get("statefulsets.apps", "v1", "shop-copy", "db")
	if inits := first(sts, "spec", "template", "spec", "initContainers"); inits != nil {
		c.t.Errorf("stateful set (app=db) got init containers %v", inits)
	}
}

// driftLiveObjects changes restored objects, as people do after a restore.
func driftLiveObjects(ctx context.Context, t *testing.T, dyn dynamic.Interface) {
	c := cluster{ctx, t, dyn}
	edits := []struct {
		gr, name string
		edit     func(*unstructured.Unstructured)
	}{
		{"configmaps", "app-config", func(o *unstructured.Unstructured) { o.Object["data"] = map[string]any{"mode": "debug"} }},
		{"deployments.apps", "web", func(o *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(o.Object, int64(5), "spec", "replicas")
			o.SetLabels(map[string]string{"app": "web", "drift": "yes"})
		}},
		{"widgets.example.com", "w1", func(o *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(o.Object, "red", "spec", "color")
		}},
		{"services", "web", func(o *unstructured.Unstructured) { o.SetLabels(map[string]string{"drift": "yes"}) }},
	}
	for _, e := range edits {
		obj := c.get(e.gr, "v1", "shop-copy", e.name) // every one is at v1
		e.edit(obj)
		if _, err := dyn.Resource(gr(e.gr).WithVersion("v1")).Namespace("shop-copy").Update(ctx, obj, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("drift %s: %v", e.name, err)
		}
	}
}

// checkUpdated asserts that policy update brought the backed-up values
// back.
func checkUpdated(ctx context.Context, t *testing.T, dyn dynamic.Interface) {
	c := cluster{ctx, t, dyn}
	if cm := c.get("configmaps", "v1", "shop-copy", "app-config"); str(cm, "data", "mode") != "production" {
		t.Errorf("config map data %v", cm.Object["data"])
	}
	d := c.get("deployments.apps", "v1", "shop-copy", "web")
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 2 || d.GetLabels()["drift"] != "" {
		t.Errorf("deployment replicas %d, labels %v", r, d.GetLabels())
	}
	if w := c.get("widgets.example.com", "v1", "shop-copy", "w1"); str(w, "spec", "color") != "blue" {
		t.Errorf("widget color %q", str(w, "spec", "color"))
	}
	svc := c.get("services", "v1", "shop-copy", "web")
	if svc.GetLabels()["drift"] != "" || str(svc, "spec", "clusterIP") == "" {
		t.Errorf("service %s", toYAML(svc.Object))
	}
}

// checkNamespaceErrors restores into a namespace being deleted (no
// namespace controller runs here, so it stays Terminating) and into one
// that does not exist.
func checkNamespaceErrors(ctx context.Context, t *testing.T, dyn dynamic.Interface) {
	nsGVR := gr("namespaces").WithVersion("v1")
	if _, err := dyn.Resource(nsGVR).Create(ctx, u(t, `{apiVersion: v1, kind: Namespace, metadata: {name: doomed}}`), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := dyn.Resource(nsGVR).Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deps := Deps{Dynamic: dyn}
	cases := []struct {
		name string
		it   Item
		want error
	}{
		{"namespace being deleted", item(t, "namespaces", `{apiVersion: v1, kind: Namespace, metadata: {name: doomed}}`), ErrNamespaceTerminating},
		{"object into a namespace being deleted", item(t, "configmaps", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: doomed}}`), ErrNamespaceTerminating},
		{"object into a missing namespace", item(t, "configmaps", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: nowhere}}`), ErrNamespaceMissing},
	}
	for _, tc := range cases {
		got, err := Apply(ctx, deps, tc.it, v1alpha1.ExistingUpdate)
		if !errors.Is(err, tc.want) || got.Result != v1alpha1.ItemFailed {
			t.Errorf("%s: %+v, %v", tc.name, got, err)
		}
		t.Logf("%s: %v", tc.name, err)
	}
}

// checkTakenNodePort restores a Service in place (its node port kept)
// while another Service holds that port: Apply falls back to a new port.
func checkTakenNodePort(ctx context.Context, t *testing.T, dyn dynamic.Interface, backup []Object) {
	var svc Object
	for _, o := range backup {
		if o.GroupResource == grServices && o.Object.GetName() == "web-np" {
			svc = o
		}
	}
	port := first(svc.Object, "spec", "ports")["nodePort"]
	rc := dyn.Resource(gr("services").WithVersion("v1")).Namespace("shop")
	if err := rc.Delete(ctx, "web-np", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	squatter := u(t, `{apiVersion: v1, kind: Service, metadata: {name: squatter, namespace: shop}, spec: {type: NodePort, ports: [{port: 81}]}}`)
	_ = unstructured.SetNestedSlice(squatter.Object, []any{map[string]any{"port": int64(81), "nodePort": port}}, "spec", "ports")
	if _, err := rc.Create(ctx, squatter, metav1.CreateOptions{}); err != nil {
		t.Fatalf("take node port %v: %v", port, err)
	}
	res, err := Plan([]Object{svc}, v1alpha1.RestoreSpec{})
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("plan: %v, %+v", err, res)
	}
	got, err := Apply(ctx, Deps{Dynamic: dyn}, res.Items[0], v1alpha1.ExistingNone)
	if err != nil || got.Result != v1alpha1.ItemCreated || !strings.Contains(got.Message, "node ports") {
		t.Errorf("restore with a taken node port: %+v, %v", got, err)
	}
	live, err := rc.Get(ctx, "web-np", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := first(live, "spec", "ports")["nodePort"]; p == nil || p == port {
		t.Errorf("restored node port %v, taken %v", p, port)
	}
}
