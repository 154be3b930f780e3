package restoreplan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// fakeCluster is the dynamic fake with what the API server does on create
// that these tests rely on: a fresh UID.
func fakeCluster(t *testing.T, objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	t.Helper()
	c := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), objs...)
	var n atomic.Int64
	c.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if obj, ok := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured); ok {
			obj.SetUID(types.UID(fmt.Sprintf("new-%d", n.Add(1))))
		}
		return false, nil, nil
	})
	return c
}

// item plans one object alone.
func item(t *testing.T, g string, doc string) Item {
	t.Helper()
	obj := u(t, doc)
	return Item{GroupResource: gr(g), Namespaced: obj.GetNamespace() != "", Object: obj,
		Stage: stageOf(gr(g)), SourceNamespace: obj.GetNamespace(), SourceUID: obj.GetUID()}
}

func get(t *testing.T, c *dynamicfake.FakeDynamicClient, g schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := c.Resource(g).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

var cmGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

func TestApplyFollowsThePolicy(t *testing.T) {
	ctx := context.Background()
	c := fakeCluster(t)
	deps := Deps{Dynamic: c}
	it := item(t, "configmaps", `{apiVersion: v1, kind: ConfigMap, metadata: {name: app, namespace: shop, labels: {app: web}}, data: {mode: production}}`)

	got, err := Apply(ctx, deps, it, v1alpha1.ExistingNone)
	if err != nil || got.Result != v1alpha1.ItemCreated {
		t.Fatalf("first apply: %+v, %v", got, err)
	}
	want := v1alpha1.RestoreItem{Resource: "configmaps", Namespace: "shop", Name: "app", Result: v1alpha1.ItemSkipped}
	got, err = Apply(ctx, deps, it, v1alpha1.ExistingNone)
	if err != nil || got.Result != want.Result || got.Name != want.Name || got.Namespace != want.Namespace || got.Message == "" {
		t.Fatalf("second apply, policy none: %+v, %v", got, err)
	}

	live := get(t, c, cmGVR, "shop", "app")
	live.SetLabels(map[string]string{"app": "changed"})
	live.Object["data"] = map[string]any{"mode": "debug", "extra": "x"}
	if _, err := c.Resource(cmGVR).Namespace("shop").Update(ctx, live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err = Apply(ctx, deps, it, v1alpha1.ExistingUpdate)
	if err != nil || got.Result != v1alpha1.ItemUpdated {
		t.Fatalf("apply, policy update: %+v, %v", got, err)
	}
	live = get(t, c, cmGVR, "shop", "app")
	if !sameObject(t, live.Object["data"].(map[string]any), map[string]any{"mode": "production"}) ||
		live.GetLabels()["app"] != "web" || live.GetUID() != "new-1" {
		t.Errorf("after update:\n%s", toYAML(live.Object))
	}
}

func TestApplyErrors(t *testing.T) {
	terminating := u(t, `{apiVersion: v1, kind: Namespace, metadata: {name: shop, deletionTimestamp: "2026-01-01T00:00:00Z"}}`)
	cases := []struct {
		name    string
		objs    []runtime.Object
		react   func(k8stesting.Action) error
		item    string
		gr      string
		policy  v1alpha1.ExistingPolicy
		want    error
		mention string
	}{
		{name: "unknown policy", gr: "configmaps", policy: "replace", want: ErrUnknownPolicy,
			item: `{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: shop}}`},
		{name: "namespace object being deleted", gr: "namespaces", objs: []runtime.Object{terminating},
			policy: v1alpha1.ExistingUpdate, want: ErrNamespaceTerminating, mention: "namespaces shop",
			item: `{apiVersion: v1, kind: Namespace, metadata: {name: shop}}`},
		{name: "object created into a namespace being deleted", gr: "deployments.apps",
			want: ErrNamespaceTerminating, mention: "deployments.apps shop/web",
			item: `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: shop}}`,
			react: func(k8stesting.Action) error {
				err := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web",
					errors.New("unable to create new content in namespace shop because it is being terminated"))
				err.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}
				return err
			}},
		{name: "namespace missing", gr: "configmaps", want: ErrNamespaceMissing, mention: "configmaps shop/a",
			item: `{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: shop}}`,
			react: func(k8stesting.Action) error {
				return apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "shop")
			}},
		{name: "resource not served", gr: "widgets.example.com", want: ErrNotServed, mention: "widgets.example.com shop/w",
			item: `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: shop}}`,
			react: func(k8stesting.Action) error {
				return apierrors.NewNotFound(schema.GroupResource{Group: "example.com", Resource: "widgets"}, "")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeCluster(t, tc.objs...)
			if tc.react != nil {
				c.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, tc.react(a)
				})
			}
			got, err := Apply(context.Background(), Deps{Dynamic: c}, item(t, tc.gr, tc.item), tc.policy)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got.Result != v1alpha1.ItemFailed || got.Message != err.Error() || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("item %+v", got)
			}
			t.Log(err)
		})
	}
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdConditionsAfter makes the fake report conditions on the CRD from the
// nth read on, as the API server does once its controllers have run.
func crdConditionsAfter(c *dynamicfake.FakeDynamicClient, n int64, conds ...map[string]any) *atomic.Int64 {
	var reads atomic.Int64
	c.PrependReactor("get", "customresourcedefinitions", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if reads.Add(1) < n {
			return false, nil, nil
		}
		obj, err := c.Tracker().Get(crdGVR, "", a.(k8stesting.GetAction).GetName())
		if err != nil {
			return true, nil, err
		}
		crd := obj.(*unstructured.Unstructured).DeepCopy()
		list := make([]any, len(conds))
		for i, cond := range conds {
			list[i] = cond
		}
		crd.Object["status"] = map[string]any{"conditions": list}
		return true, crd, nil
	})
	return &reads
}

func TestApplyWaitsForCRDs(t *testing.T) {
	doc := `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: widgets.example.com}, spec: {group: example.com}}`
	established := map[string]any{"type": "Established", "status": "True"}
	notYet := map[string]any{"type": "Established", "status": "False", "message": "not all names are accepted"}
	rejected := map[string]any{"type": "NamesAccepted", "status": "False", "message": "the plural is in use by gadgets.example.com"}
	cases := []struct {
		name  string
		after int64
		conds []map[string]any
		want  error
	}{
		{"established after a few reads", 3, []map[string]any{established}, nil},
		{"never established", 1, []map[string]any{notYet}, ErrCRDNotEstablished},
		{"names rejected", 1, []map[string]any{rejected, notYet}, ErrCRDNotEstablished},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeCluster(t)
			reads := crdConditionsAfter(c, tc.after, tc.conds...)
			start := time.Now()
			got, err := Apply(context.Background(), Deps{Dynamic: c, CRDTimeout: time.Second}, item(t, "customresourcedefinitions.apiextensions.k8s.io", doc), "")
			if !errors.Is(err, tc.want) {
				t.Fatalf("Apply: %+v, %v", got, err)
			}
			if tc.want == nil && (got.Result != v1alpha1.ItemCreated || reads.Load() < tc.after) {
				t.Errorf("%+v after %d reads", got, reads.Load())
			}
			if tc.conds[0]["type"] == "NamesAccepted" && time.Since(start) > 500*time.Millisecond {
				t.Errorf("rejected names waited %s", time.Since(start))
			}
			t.Logf("%v (%d reads)", err, reads.Load())
		})
	}
}

var rsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}

func TestApplyRewritesOwnerReferences(t *testing.T) {
	owner := `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: shop, uid: old-d}}`
	dependent := `
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  namespace: shop
  uid: old-r
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: old-d, controller: true}]`
	cases := []struct {
		name          string
		owners        *Owners
		ownerFirst    bool
		wantOwnerRefs int
	}{
		{"owner applied first", NewOwners(), true, 1},
		{"owner applied after its dependent", NewOwners(), false, 1},
		{"no Owners: references dropped", nil, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c := fakeCluster(t)
			deps := Deps{Dynamic: c, Owners: tc.owners}
			items := []Item{item(t, "deployments.apps", owner), item(t, "replicasets.apps", dependent)}
			if !tc.ownerFirst {
				items[0], items[1] = items[1], items[0]
			}
			for _, it := range items {
				if _, err := Apply(ctx, deps, it, ""); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.owners.Finish(ctx, deps); err != nil {
				t.Fatal(err)
			}
			d := get(t, c, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "shop", "web")
			rs := get(t, c, rsGVR, "shop", "web-1")
			refs := rs.GetOwnerReferences()
			if len(refs) != tc.wantOwnerRefs {
				t.Fatalf("owner references %+v", refs)
			}
			if len(refs) == 1 && (refs[0].UID != d.GetUID() || refs[0].Controller == nil || !*refs[0].Controller) {
				t.Errorf("reference %+v, owner uid %s", refs[0], d.GetUID())
			}
		})
	}
}

func TestApplyServiceWithTakenNodePorts(t *testing.T) {
	c := fakeCluster(t)
	c.PrependReactor("create", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured)
		ports, _, _ := nestedSlice(obj.Object, "spec", "ports")
		if np, has := ports[0].(map[string]any)["nodePort"]; has {
			path := field.NewPath("spec", "ports").Index(0).Child("nodePort")
			return true, nil, apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, obj.GetName(),
				field.ErrorList{field.Invalid(path, np, "provided port is already allocated")})
		}
		return false, nil, nil
	})
	it := item(t, "services", `{apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {type: NodePort, ports: [{port: 80, nodePort: 30080}]}}`)
	got, err := Apply(context.Background(), Deps{Dynamic: c}, it, "")
	if err != nil || got.Result != v1alpha1.ItemCreated || !strings.Contains(got.Message, "node ports") {
		t.Fatalf("%+v, %v", got, err)
	}
}

func TestApplyRestoresStatus(t *testing.T) {
	c := fakeCluster(t)
	var statusWrites atomic.Int64
	c.PrependReactor("update", "widgets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" {
			statusWrites.Add(1)
		}
		return false, nil, nil
	})
	with := item(t, "widgets.example.com", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: shop}, status: {ready: true}}`)
	without := item(t, "widgets.example.com", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: v, namespace: shop}}`)
	for _, it := range []Item{with, without} {
		if _, err := Apply(context.Background(), Deps{Dynamic: c}, it, ""); err != nil {
			t.Fatal(err)
		}
	}
	if statusWrites.Load() != 1 {
		t.Errorf("%d status writes, want 1", statusWrites.Load())
	}
}

func TestApplyWithoutAnObjectFails(t *testing.T) {
	got, err := Apply(context.Background(), Deps{Dynamic: fakeCluster(t)}, Item{GroupResource: grConfigMaps}, "")
	if err == nil || got.Result != v1alpha1.ItemFailed {
		t.Errorf("%+v, %v", got, err)
	}
}
