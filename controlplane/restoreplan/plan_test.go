package restoreplan

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Malformed objects become failed items; the rest is planned.
func TestPlanMalformedObjects(t *testing.T) {
	good := in("configmaps", u(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: ok, namespace: s}}`))
	cases := []struct {
		name string
		obj  Object
	}{
		{"no object at all", Object{GroupResource: grConfigMaps, Namespaced: true}},
		{"no resource", Object{Raw: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`)}},
		{"bad JSON", Object{GroupResource: grConfigMaps, Namespaced: true, Raw: []byte(`{"apiVersion": "v1", "kind": `)}},
		{"JSON that is not an object", Object{GroupResource: grConfigMaps, Namespaced: true, Raw: []byte(`[1,2]`)}},
		{"no kind", Object{GroupResource: grConfigMaps, Namespaced: true, Raw: []byte(`{"apiVersion":"v1","metadata":{"name":"x","namespace":"s"}}`)}},
		{"no name", Object{GroupResource: grConfigMaps, Namespaced: true,
			Object: &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"namespace": "s"}}}}},
		{"metadata not an object", Object{GroupResource: grConfigMaps, Namespaced: true,
			Object: &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": "x"}}}},
		{"namespaced without namespace", Object{GroupResource: grConfigMaps, Namespaced: true,
			Raw: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`)}},
		{"cluster-scoped with namespace", Object{GroupResource: grPVs,
			Raw: []byte(`{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"x","namespace":"s"}}`)}},
		{"bad apiVersion", Object{GroupResource: grConfigMaps, Namespaced: true,
			Raw: []byte(`{"apiVersion":"a/b/c","kind":"ConfigMap","metadata":{"name":"x","namespace":"s"}}`)}},
		{"field of the wrong type", Object{GroupResource: grServices, Namespaced: true,
			Raw: []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"x","namespace":"s"},"spec":{"clusterIP":7}}`)}},
		{"a Go value JSON cannot hold", Object{GroupResource: grConfigMaps, Namespaced: true,
			Object: &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": "x", "namespace": "s"}, "data": map[string]any{"n": 7}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Plan([]Object{good, tc.obj}, v1alpha1.RestoreSpec{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != 1 || res.Items[0].Object.GetName() != "ok" {
				t.Errorf("items %v", refs(res.Items))
			}
			if len(res.Failed) != 1 || res.Failed[0].Result != v1alpha1.ItemFailed || res.Failed[0].Message == "" {
				t.Fatalf("failed %+v", res.Failed)
			}
			t.Logf("%+v", res.Failed[0])
		})
	}
}

func TestPlanSkipsClusterManagedObjects(t *testing.T) {
	objs := []Object{
		in("configmaps", u(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: kube-root-ca.crt, namespace: shop}}`)),
		in("services", u(t, `{apiVersion: v1, kind: Service, metadata: {name: kubernetes, namespace: default}}`)),
		in("endpoints", u(t, `{apiVersion: v1, kind: Endpoints, metadata: {name: kubernetes, namespace: default}}`)),
		in("services", u(t, `{apiVersion: v1, kind: Service, metadata: {name: kubernetes, namespace: shop}}`)),
	}
	res, err := Plan(objs, v1alpha1.RestoreSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(res.Items); !slices.Equal(got, []string{"services shop/kubernetes"}) {
		t.Errorf("items %v", got)
	}
	if len(res.Skipped) != 3 {
		t.Errorf("skipped %+v", res.Skipped)
	}
	for _, s := range res.Skipped {
		if s.Result != v1alpha1.ItemSkipped || s.Message == "" {
			t.Errorf("skipped item %+v", s)
		}
	}
}

func TestPlanLeavesInputAlone(t *testing.T) {
	objs := filterFixture(t)
	svc := u(t, `{apiVersion: v1, kind: Service, metadata: {name: w, namespace: shop, uid: u1}, spec: {clusterIP: 10.0.0.1}}`)
	objs = append(objs, in("services", svc))
	before := make([]map[string]any, len(objs))
	for i, o := range objs {
		before[i] = o.Object.DeepCopy().Object
	}
	if _, err := Plan(objs, v1alpha1.RestoreSpec{NamespaceMapping: map[string]string{"shop": "x"}}); err != nil {
		t.Fatal(err)
	}
	for i, o := range objs {
		if !reflect.DeepEqual(o.Object.Object, before[i]) {
			t.Errorf("input %d changed:\n%s", i, toYAML(o.Object.Object))
		}
	}
}

// Plan keeps owner references to restored owners (still with the old
// UID, for Apply to rewrite), records where items came from, and keeps
// node ports only for unmapped namespaces.
func TestPlanOwnersSourcesAndNodePorts(t *testing.T) {
	objs := []Object{
		in("deployments.apps", u(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: shop, uid: d1}}`)),
		in("replicasets.apps", u(t, `
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  namespace: shop
  uid: r1
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}
  - {apiVersion: v1, kind: ConfigMap, name: excluded, uid: c1}`)),
		in("services", u(t, `{apiVersion: v1, kind: Service, metadata: {name: a, namespace: shop}, spec: {type: NodePort, ports: [{port: 80, nodePort: 30001}]}}`)),
		in("services", u(t, `{apiVersion: v1, kind: Service, metadata: {name: b, namespace: ops}, spec: {type: NodePort, ports: [{port: 80, nodePort: 30002}]}}`)),
		in("configmaps", u(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: excluded, namespace: shop, uid: c1}}`)),
	}
	res, err := Plan(objs, v1alpha1.RestoreSpec{NamespaceMapping: map[string]string{"shop": "shop-copy"},
		ExcludedResources: []string{"configmaps"}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Item{}
	for _, it := range res.Items {
		byName[it.Object.GetName()] = it
	}
	rs := byName["web-1"]
	if owners := rs.Object.GetOwnerReferences(); len(owners) != 1 || owners[0].UID != "d1" {
		t.Errorf("owner references %+v", owners)
	}
	if rs.SourceNamespace != "shop" || rs.SourceUID != "r1" || rs.Object.GetNamespace() != "shop-copy" || rs.Object.GetUID() != "" {
		t.Errorf("replica set %+v", rs)
	}
	portOf := func(name string) any {
		ports, _, _ := nestedSlice(byName[name].Object.Object, "spec", "ports")
		return ports[0].(map[string]any)["nodePort"]
	}
	if p := portOf("a"); p != nil {
		t.Errorf("mapped namespace: node port %v kept", p)
	}
	if p := portOf("b"); p != int64(30002) {
		t.Errorf("unmapped namespace: node port %v, want 30002", p)
	}
}

func FuzzPlan(f *testing.F) {
	seeds := []string{
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"s","uid":"1"},"spec":{"clusterIP":"10.0.0.1","ports":[{"port":80,"nodePort":30000}]}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"s","labels":{"app":"db"}},"spec":{"nodeName":"n","volumes":[{"name":"kube-api-access-1","projected":{}}],"containers":[{"name":"c","volumeMounts":[{"name":"kube-api-access-1"}]}]}}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"r","namespace":"s"},"subjects":[{"kind":"ServiceAccount","name":"a","namespace":"s"}]}`,
		`{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"d","namespace":"s"},"spec":{"volumeClaimTemplates":[{"spec":{"storageClassName":"fast"}}],"template":{"metadata":{"labels":{"app":"db"}},"spec":{"volumes":[{"ephemeral":{"volumeClaimTemplate":{"spec":{}}}}]}}}}`,
		`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","namespace":"s","labels":{"controller-uid":"x"}},"spec":{"selector":{},"template":{"metadata":{"labels":[]}}}}`,
		`{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c","namespace":"s","annotations":{"pv.kubernetes.io/bind-completed":"yes"}},"spec":{"volumeName":"v"}}`,
		`{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/service-account-token","metadata":{"name":"t","namespace":"s"},"data":"x"}`,
		`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"a","namespace":"s"},"secrets":[1,{"name":"a-token-x"}]}`,
		`{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"n","namespace":"s"},"spec":{"ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"s"}}}]}]}}`,
		`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"s","labels":{"kubernetes.io/metadata.name":"s"}}}`,
	}
	resources := []string{"services", "pods", "rolebindings.rbac.authorization.k8s.io", "statefulsets.apps", "jobs.batch",
		"persistentvolumeclaims", "secrets", "serviceaccounts", "networkpolicies.networking.k8s.io", "namespaces"}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	spec := v1alpha1.RestoreSpec{
		NamespaceMapping:    map[string]string{"s": "t"},
		StorageClassMapping: map[string]string{"fast": "slow"},
		Hooks:               []v1alpha1.RestoreResourceHook{{Name: "h", InitContainers: fuzzInit}},
	}
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		g := schema.ParseGroupResource(resources[int(which)%len(resources)])
		for _, namespaced := range []bool{true, false} {
			res, err := Plan([]Object{{GroupResource: g, Namespaced: namespaced, Raw: raw}}, spec)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items)+len(res.Failed)+len(res.Skipped) > 1 {
				t.Fatalf("one object became %d items, %d failures", len(res.Items), len(res.Failed))
			}
			for _, it := range res.Items {
				if it.Object.GetUID() != "" || it.Object.GetResourceVersion() != "" {
					t.Fatalf("identity not stripped: %s", toYAML(it.Object.Object))
				}
			}
		}
	})
}

var fuzzInit = []corev1.Container{{Name: "init", Image: "busybox"}}
