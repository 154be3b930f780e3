package restoreplan

import (
	"errors"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// filterFixture is a small two-namespace backup with cluster-scoped
// objects and dependencies.
func filterFixture(t *testing.T) []Object {
	return []Object{
		in("namespaces", u(t, `{apiVersion: v1, kind: Namespace, metadata: {name: shop}}`)),
		in("namespaces", u(t, `{apiVersion: v1, kind: Namespace, metadata: {name: other}}`)),
		in("configmaps", u(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: shop, labels: {app: web}}}`)),
		in("configmaps", u(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: other}}`)),
		in("secrets", u(t, `{apiVersion: v1, kind: Secret, metadata: {name: s, namespace: shop}}`)),
		in("deployments.apps", u(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: shop, labels: {app: web}}}`)),
		in("persistentvolumeclaims", u(t, `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: shop}}`)),
		in("persistentvolumes", u(t, `{apiVersion: v1, kind: PersistentVolume, metadata: {name: pv-1}, spec: {claimRef: {namespace: shop, name: data}}}`)),
		in("persistentvolumes", u(t, `{apiVersion: v1, kind: PersistentVolume, metadata: {name: pv-2}, spec: {claimRef: {namespace: other, name: data}}}`)),
		in("widgets.example.com", u(t, `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w1, namespace: shop}}`)),
		in("customresourcedefinitions.apiextensions.k8s.io", u(t, `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: widgets.example.com}}`)),
		in("customresourcedefinitions.apiextensions.k8s.io", u(t, `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: gadgets.example.com}}`)),
		in("clusterroles.rbac.authorization.k8s.io", u(t, `{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: admin, labels: {app: web}}}`)),
		in("storageclasses.storage.k8s.io", u(t, `{apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: fast}}`)),
	}
}

func TestPlanFilters(t *testing.T) {
	all := []string{
		"customresourcedefinitions.apiextensions.k8s.io widgets.example.com",
		"customresourcedefinitions.apiextensions.k8s.io gadgets.example.com",
		"namespaces shop", "namespaces other", "storageclasses.storage.k8s.io fast",
		"clusterroles.rbac.authorization.k8s.io admin", "secrets shop/s",
		"configmaps shop/a", "configmaps other/b",
		"persistentvolumes pv-1", "persistentvolumes pv-2", "persistentvolumeclaims shop/data",
		"widgets.example.com shop/w1", "deployments.apps shop/web",
	}
	shop := []string{
		"customresourcedefinitions.apiextensions.k8s.io widgets.example.com",
		"namespaces shop", "secrets shop/s", "configmaps shop/a",
		"persistentvolumes pv-1", "persistentvolumeclaims shop/data",
		"widgets.example.com shop/w1", "deployments.apps shop/web",
	}
	cases := []struct {
		name string
		spec v1alpha1.RestoreSpec
		want []string
	}{
		{"no filter restores everything", v1alpha1.RestoreSpec{}, all},
		{"one namespace brings its dependencies, not the cluster's objects",
			v1alpha1.RestoreSpec{IncludedNamespaces: []string{"shop"}}, shop},
		{"a glob selects namespaces", v1alpha1.RestoreSpec{IncludedNamespaces: []string{"sh*"}}, shop},
		{"an exclusion selects the rest, without cluster objects",
			v1alpha1.RestoreSpec{ExcludedNamespaces: []string{"other"}}, shop},
		{"included namespaces are matched case-insensitively",
			v1alpha1.RestoreSpec{IncludedNamespaces: []string{"SHOP"}}, shop},
		{"a resource brings its namespace",
			v1alpha1.RestoreSpec{IncludedResources: []string{"deployments"}},
			[]string{"namespaces shop", "deployments.apps shop/web"}},
		{"resource.group matches",
			v1alpha1.RestoreSpec{IncludedResources: []string{"deployments.apps"}},
			[]string{"namespaces shop", "deployments.apps shop/web"}},
		{"a group glob brings the CRD",
			v1alpha1.RestoreSpec{IncludedResources: []string{"*.example.com"}},
			[]string{"customresourcedefinitions.apiextensions.k8s.io widgets.example.com",
				"namespaces shop", "widgets.example.com shop/w1"}},
		{"a claim brings its volume",
			v1alpha1.RestoreSpec{IncludedNamespaces: []string{"shop"}, IncludedResources: []string{"persistentvolumeclaims"}},
			[]string{"namespaces shop", "persistentvolumeclaims shop/data", "persistentvolumes pv-1"}},
		{"excluded resources win over dependencies",
			v1alpha1.RestoreSpec{IncludedNamespaces: []string{"shop"},
				ExcludedResources: []string{"persistentvolumes", "customresourcedefinitions.apiextensions.k8s.io", "configmaps"}},
			[]string{"namespaces shop", "secrets shop/s", "persistentvolumeclaims shop/data",
				"widgets.example.com shop/w1", "deployments.apps shop/web"}},
		{"a label selector keeps matching objects and their namespace",
			v1alpha1.RestoreSpec{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
			[]string{"namespaces shop", "clusterroles.rbac.authorization.k8s.io admin",
				"configmaps shop/a", "deployments.apps shop/web"}},
		{"a named cluster resource comes with a namespace filter",
			v1alpha1.RestoreSpec{IncludedNamespaces: []string{"shop"}, IncludedResources: []string{"clusterroles", "configmaps"}},
			[]string{"namespaces shop", "clusterroles.rbac.authorization.k8s.io admin", "configmaps shop/a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Plan(filterFixture(t), tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			got := refs(res.Items)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestPlanRejectsInvalidSpecs(t *testing.T) {
	cases := []struct {
		name string
		spec v1alpha1.RestoreSpec
	}{
		{"bad namespace glob", v1alpha1.RestoreSpec{IncludedNamespaces: []string{"[a"}}},
		{"empty resource pattern", v1alpha1.RestoreSpec{ExcludedResources: []string{" "}}},
		{"bad label selector", v1alpha1.RestoreSpec{LabelSelector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near"}}}}},
		{"namespace mapping to an invalid name", v1alpha1.RestoreSpec{NamespaceMapping: map[string]string{"shop": "Shop_Copy"}}},
		{"namespace mapping to nothing", v1alpha1.RestoreSpec{NamespaceMapping: map[string]string{"shop": ""}}},
		{"storage class mapping to an invalid name", v1alpha1.RestoreSpec{StorageClassMapping: map[string]string{"fast": "a/b"}}},
		{"hook with a bad namespace glob", v1alpha1.RestoreSpec{Hooks: []v1alpha1.RestoreResourceHook{{Name: "h",
			IncludedNamespaces: []string{"[x"}, InitContainers: []corev1.Container{{Name: "c"}}}}}},
		{"hook init container without a name", v1alpha1.RestoreSpec{Hooks: []v1alpha1.RestoreResourceHook{{Name: "h",
			InitContainers: []corev1.Container{{Image: "busybox"}}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Plan(nil, tc.spec)
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("err = %v, want ErrInvalidSpec", err)
			}
			t.Log(err)
		})
	}
}
