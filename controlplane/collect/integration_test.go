package collect

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/blob/fs"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// On a real API server: collect one namespace's objects, store them in a
// repository on disk, load them back and compare field by field.
func TestCollectStoreLoadOnAPIServer(t *testing.T) {
	env := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dyn := dynamic.NewForConfigOrDie(env.Config)
	dis := discovery.NewDiscoveryClientForConfigOrDie(env.Config)
	seedNamespace(ctx, t, env.Client, dyn)

	res, err := Collect(ctx, Deps{Discovery: dis, Dynamic: dyn}, Filter{IncludedNamespaces: []string{"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		t.Logf("warning: %s", w)
	}
	got := paths(res.Items)
	want := ps("core/configmaps/shop/app-config", "core/secrets/shop/db", "core/serviceaccounts/shop/app",
		"apps/deployments/shop/web", "core/services/shop/web", "example.com/widgets/shop/w1",
		"cairn.dev/backuplocations/shop/default",
		"core/namespaces/_cluster/shop", "apiextensions.k8s.io/customresourcedefinitions/_cluster/widgets.example.com",
		"apiextensions.k8s.io/customresourcedefinitions/_cluster/backuplocations.cairn.dev")
	t.Logf("collected %d items: %v", len(got), got)
	if missing := minus(want, got); len(missing) > 0 {
		t.Errorf("missing %v in %v", missing, got)
	}
	for _, it := range res.Items {
		ns := it.Object.GetNamespace()
		switch {
		case it.GroupResource.Resource == "events", it.GroupResource.Resource == "backups":
			t.Errorf("never-backed-up object collected: %s", it.Path())
		case it.Namespaced && ns != "shop":
			t.Errorf("object outside the namespace filter: %s", it.Path())
		case !it.Namespaced && !slices.Contains(want, it.Path()):
			t.Errorf("cluster-scoped object that is not a dependency: %s", it.Path())
		}
	}
	loaded := storeAndLoad(ctx, t, res.Items)
	if len(loaded) != len(res.Items) {
		t.Fatalf("loaded %d items, stored %d", len(loaded), len(res.Items))
	}
	for i, it := range res.Items {
		l := loaded[i]
		if l.Path() != it.Path() || l.GroupResource != it.GroupResource || l.Version != it.Version || l.Namespaced != it.Namespaced {
			t.Errorf("item %d: stored %s at %s, loaded %s at %s", i, it.Path(), it.Version, l.Path(), l.Version)
		}
		for _, d := range diffFields("", it.Object.Object, l.Object.Object) {
			t.Errorf("%s: %s", it.Path(), d)
		}
	}
}

func storeAndLoad(ctx context.Context, t *testing.T, items []Item) []Item {
	t.Helper()
	store, err := fs.Open(t.TempDir(), fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(ctx, store, testPassword, repo.Options{KDF: crypto.FastKDFForTests})
	if err != nil {
		t.Fatal(err)
	}
	id, err := Store(ctx, r, items, StoreOptions{Hostname: "envtest"})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(ctx, r, id)
	if err != nil {
		t.Fatal(err)
	}
	return loaded
}

// seedNamespace creates "shop" with a realistic mix, an event, a CRD with
// an instance, and a second namespace that the filter leaves out.
func seedNamespace(ctx context.Context, t *testing.T, c client.Client, dyn dynamic.Interface) {
	t.Helper()
	labels := map[string]string{"app": "web"}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: labels}
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "a"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "noise"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "noise"}},
		&corev1.ConfigMap{ObjectMeta: meta("app-config"), Data: map[string]string{"mode": "production", "workers": "4"}},
		&corev1.Secret{ObjectMeta: meta("db"), Data: map[string][]byte{"password": []byte("s3cret\x00bytes")}},
		&corev1.ServiceAccount{ObjectMeta: meta("app")},
		&corev1.Service{ObjectMeta: meta("web"), Spec: corev1.ServiceSpec{Selector: labels,
			Ports: []corev1.ServicePort{{Port: 80}}}},
		&appsv1.Deployment{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{ServiceAccountName: "app", Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27",
					EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"}}}}}}}}}},
		&v1alpha1.Backup{ObjectMeta: meta("nightly")},
		&v1alpha1.BackupLocation{ObjectMeta: meta("default"), Spec: v1alpha1.BackupLocationSpec{URL: "/backups",
			PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "db", Key: "password"}}},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web.1", Namespace: "shop"},
			InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Namespace: "shop", Name: "web"},
			Reason:         "Test", Message: "not to be backed up", Type: "Normal"},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
	createWidgetCRD(ctx, t, dyn)
}

func createWidgetCRD(ctx context.Context, t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.example.com"},
		"spec": map[string]any{
			"group": "example.com", "scope": "Namespaced",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object",
					"properties": map[string]any{"spec": map[string]any{"type": "object",
						"properties": map[string]any{"size": map[string]any{"type": "integer"},
							"color": map[string]any{"type": "string"}}}}}}}},
		},
	}}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1", "namespace": "shop", "labels": map[string]any{"app": "web"}},
		"spec":     map[string]any{"size": int64(3), "color": "blue"},
	}}
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	var err error
	for range 100 { // the CRD takes a moment to be established and served
		if _, err = dyn.Resource(widgets).Namespace("shop").Create(ctx, w, metav1.CreateOptions{}); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("create widget: %v", err)
}

// diffFields lists the fields where a and b differ, by path.
func diffFields(path string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		var out []string
		for _, k := range sortedKeys(keys) {
			out = append(out, diffFields(path+"."+k, am[k], bm[k])...)
		}
		return out
	}
	if !reflect.DeepEqual(a, b) {
		return []string{fmt.Sprintf("%s: stored %#v, loaded %#v", strings.TrimPrefix(path, "."), a, b)}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
