package collect

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clienttesting "k8s.io/client-go/testing"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// p abbreviates an item path: p("core/configmaps/shop/cfg").
func p(s string) string { return TreeRoot + "/" + s + FileSuffix }

func ps(s ...string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = p(x)
	}
	return out
}

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(ps(drop...), s) })
}

func sel(kv ...string) *metav1.LabelSelector {
	m := map[string]string{}
	for _, x := range kv {
		k, v, _ := strings.Cut(x, "=")
		m[k] = v
	}
	return &metav1.LabelSelector{MatchLabels: m}
}

func ptr[T any](v T) *T { return &v }

// What the world keeps of each namespace (see newWorld): controller-owned
// pods, managed endpoints and slices, events, leases, revisions and cairn's
// backups and work items are gone.
var (
	shopKept = ps("core/configmaps/shop/cfg", "core/secrets/shop/creds", "apps/deployments/shop/web",
		"apps/replicasets/shop/web-123", "core/pods/shop/helper", "core/pods/shop/bare",
		"core/services/shop/web", "core/services/shop/ext", "core/endpoints/shop/ext",
		"discovery.k8s.io/endpointslices/shop/custom", "core/persistentvolumeclaims/shop/data",
		"example.com/widgets/shop/w1", "cairn.dev/schedules/shop/daily")
	devKept    = ps("core/configmaps/shop-dev/cfg")
	otherKept  = ps("core/configmaps/other/x", "core/persistentvolumeclaims/other/other-data", "core/persistentvolumeclaims/other/pending")
	systemKept = ps("core/configmaps/kube-system/kube-root")
	allNS      = ps("core/namespaces/_cluster/shop", "core/namespaces/_cluster/shop-dev",
		"core/namespaces/_cluster/other", "core/namespaces/_cluster/kube-system")
	allPVs      = ps("core/persistentvolumes/_cluster/pv-data", "core/persistentvolumes/_cluster/pv-other", "core/persistentvolumes/_cluster/pv-unbound")
	widgetCRD   = p("apiextensions.k8s.io/customresourcedefinitions/_cluster/widgets.example.com")
	gadgetCRD   = p("apiextensions.k8s.io/customresourcedefinitions/_cluster/gadgets.example.com")
	clusterOnly = join(ps("rbac.authorization.k8s.io/clusterroles/_cluster/admin", "example.com/gadgets/_cluster/g1"),
		[]string{widgetCRD, gadgetCRD}, allPVs)
)

func TestCollectFilters(t *testing.T) {
	cases := []struct {
		name string
		spec v1alpha1.BackupSpec
		want []string
	}{
		{"no filter takes every namespace and the cluster-scoped resources",
			v1alpha1.BackupSpec{},
			join(shopKept, devKept, otherKept, systemKept, allNS, clusterOnly)},
		{"a star is the same as no filter",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"*"}},
			join(shopKept, devKept, otherKept, systemKept, allNS, clusterOnly)},
		{"a literal namespace brings its Namespace, bound PV and CRDs",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}},
			join(shopKept, ps("core/namespaces/_cluster/shop", "core/persistentvolumes/_cluster/pv-data"), []string{widgetCRD})},
		{"a namespace glob",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop*"}},
			join(shopKept, devKept, ps("core/namespaces/_cluster/shop", "core/namespaces/_cluster/shop-dev",
				"core/persistentvolumes/_cluster/pv-data"), []string{widgetCRD})},
		{"an excluded namespace turns cluster-scoped resources off except dependencies",
			v1alpha1.BackupSpec{ExcludedNamespaces: []string{"kube-*"}},
			join(shopKept, devKept, otherKept, without(allNS, "core/namespaces/_cluster/kube-system"),
				ps("core/persistentvolumes/_cluster/pv-data", "core/persistentvolumes/_cluster/pv-other"), []string{widgetCRD})},
		{"includeClusterResources true with one namespace",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"other"}, IncludeClusterResources: ptr(true)},
			join(otherKept, ps("core/namespaces/_cluster/other"), clusterOnly)},
		{"includeClusterResources false keeps only dependencies",
			v1alpha1.BackupSpec{IncludeClusterResources: ptr(false)},
			join(shopKept, devKept, otherKept, systemKept, allNS,
				ps("core/persistentvolumes/_cluster/pv-data", "core/persistentvolumes/_cluster/pv-other"), []string{widgetCRD})},
		{"included resources by bare name, in any case",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}, IncludedResources: []string{"ConfigMaps"}},
			ps("core/configmaps/shop/cfg", "core/namespaces/_cluster/shop")},
		{"included resources by resource.group",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}, IncludedResources: []string{"deployments.apps", "widgets.example.com"}},
			join(ps("apps/deployments/shop/web", "example.com/widgets/shop/w1", "core/namespaces/_cluster/shop"), []string{widgetCRD})},
		{"included resources by group glob, cluster-wide",
			v1alpha1.BackupSpec{IncludedResources: []string{"*.example.com"}},
			join(ps("example.com/widgets/shop/w1", "example.com/gadgets/_cluster/g1", "core/namespaces/_cluster/shop"), []string{gadgetCRD, widgetCRD})},
		{"excluded resources by group glob and bare name",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}, ExcludedResources: []string{"*.cairn.dev", "secrets"}},
			join(without(shopKept, "cairn.dev/schedules/shop/daily", "core/secrets/shop/creds"),
				ps("core/namespaces/_cluster/shop", "core/persistentvolumes/_cluster/pv-data"), []string{widgetCRD})},
		{"excluded resources win over dependencies",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"},
				ExcludedResources: []string{"namespaces", "persistentvolumes", "customresourcedefinitions.apiextensions.k8s.io"}},
			shopKept},
		{"label selector across namespaces",
			v1alpha1.BackupSpec{LabelSelector: sel("app=web")},
			join(ps("core/configmaps/shop/cfg", "core/configmaps/shop-dev/cfg", "apps/deployments/shop/web",
				"example.com/widgets/shop/w1", "core/namespaces/_cluster/shop", "core/namespaces/_cluster/shop-dev"), []string{widgetCRD})},
		{"or label selectors",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}, OrLabelSelectors: []*metav1.LabelSelector{sel("app=web"), sel("app=db")}},
			join(ps("core/configmaps/shop/cfg", "core/secrets/shop/creds", "apps/deployments/shop/web",
				"example.com/widgets/shop/w1", "core/namespaces/_cluster/shop"), []string{widgetCRD})},
		{"a label selector that matches nothing collects nothing",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}, LabelSelector: sel("app=none")},
			nil},
		{"a label selector applies to cluster-scoped objects too",
			v1alpha1.BackupSpec{LabelSelector: sel("team=a")},
			ps("core/namespaces/_cluster/shop")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Collect(context.Background(), newWorld(t).deps(), FilterFrom(tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			got := paths(res.Items)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(slices.Sorted(slices.Values(got)), want) {
				t.Errorf("items differ\n missing: %v\n extra:   %v", minus(want, got), minus(got, want))
			}
			if len(res.Warnings) > 0 {
				t.Errorf("warnings: %q", res.Warnings)
			}
		})
	}
}

func paths(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Path()
	}
	return out
}

func minus(a, b []string) []string {
	return slices.DeleteFunc(slices.Clone(a), func(s string) bool { return slices.Contains(b, s) })
}

func TestCollectInvalidFilters(t *testing.T) {
	cases := []struct {
		name     string
		spec     v1alpha1.BackupSpec
		want     error
		contains []string
	}{
		{"selector and or-selectors together",
			v1alpha1.BackupSpec{LabelSelector: sel("a=b"), OrLabelSelectors: []*metav1.LabelSelector{sel("c=d")}},
			ErrInvalidFilter, []string{"labelSelector", "orLabelSelectors", "exclusive"}},
		{"malformed namespace glob",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop["}},
			ErrInvalidFilter, []string{"includedNamespaces[0]", `"shop["`}},
		{"empty resource pattern",
			v1alpha1.BackupSpec{ExcludedResources: []string{"secrets", " "}},
			ErrInvalidFilter, []string{"excludedResources[1]"}},
		{"null or-selector",
			v1alpha1.BackupSpec{OrLabelSelectors: []*metav1.LabelSelector{sel("a=b"), nil}},
			ErrInvalidFilter, []string{"orLabelSelectors[1]"}},
		{"selector with a bad operator",
			v1alpha1.BackupSpec{LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "app", Operator: "Near", Values: []string{"x"}}}}},
			ErrInvalidFilter, []string{"labelSelector"}},
		{"an included namespace that does not exist",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop", "nope"}},
			ErrNamespaceNotFound, []string{`namespace "nope" in spec.includedNamespaces does not exist`, "fix the Backup's includedNamespaces"}},
		{"several included namespaces that do not exist",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop", "nope", "gone"}},
			ErrNamespaceNotFound, []string{`namespaces "nope", "gone" in spec.includedNamespaces do not exist`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Collect(context.Background(), newWorld(t).deps(), FilterFrom(tc.spec))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if tc.want == ErrInvalidFilter && FilterFrom(tc.spec).Validate() == nil {
				t.Error("Validate accepted the filter")
			}
		})
	}
}

func TestCollectWarnings(t *testing.T) {
	cases := []struct {
		name    string
		spec    v1alpha1.BackupSpec
		prepare func(c *fakeCluster) Deps
		want    []string // substrings of warnings, in order
		has     []string // items still collected
	}{
		{"a namespace glob that matches nothing",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop", "prod-*"}},
			func(c *fakeCluster) Deps { return c.deps() },
			[]string{`"prod-*" matches no namespace`}, shopKept},
		{"a group whose discovery fails",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}},
			func(c *fakeCluster) Deps {
				return Deps{Discovery: failingDiscovery{c.dis, "example.com/v1"}, Dynamic: c.dyn}
			},
			[]string{"API group example.com/v1 was not backed up", "unable to handle the request"},
			without(shopKept, "example.com/widgets/shop/w1")},
		{"a resource cairn may not list",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}},
			func(c *fakeCluster) Deps {
				c.dyn.PrependReactor("list", "secrets", func(clienttesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("RBAC"))
				})
				return c.deps()
			},
			[]string{"secrets in namespace shop were not backed up", "grant cairn's controller list"},
			without(shopKept, "core/secrets/shop/creds")},
		{"a bound volume that is gone",
			v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}},
			func(c *fakeCluster) Deps {
				if err := c.dyn.Tracker().Delete(schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}, "", "pv-data"); err != nil {
					t.Fatal(err)
				}
				return c.deps()
			},
			[]string{"PersistentVolume pv-data, bound to PersistentVolumeClaim shop/data, was not found"}, shopKept},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newWorld(t)
			res, err := Collect(context.Background(), tc.prepare(c), FilterFrom(tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(res.Warnings, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", res.Warnings, w)
				}
			}
			if missing := minus(tc.has, paths(res.Items)); len(missing) > 0 {
				t.Errorf("missing items %v", missing)
			}
		})
	}
}

func TestCollectFailsOnOtherAPIErrors(t *testing.T) {
	c := newWorld(t)
	c.dyn.PrependReactor("list", "configmaps", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New("etcd timeout"))
	})
	_, err := Collect(context.Background(), c.deps(), Filter{IncludedNamespaces: []string{"shop"}})
	if err == nil || !strings.Contains(err.Error(), "list configmaps in namespace shop") {
		t.Fatalf("err = %v, want one naming the list of configmaps in shop", err)
	}
}

// Items come sorted, at the preferred version, with apiVersion and kind;
// a resource only an older version serves is read at that version.
func TestCollectVersionsAndOrder(t *testing.T) {
	c := newWorld(t)
	c.add("oldthings.example.com", object("shop", "t1"))
	res, err := Collect(context.Background(), c.deps(), Filter{IncludedNamespaces: []string{"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(res.Items, compareItems) {
		t.Errorf("items not sorted: %v", paths(res.Items))
	}
	versions := map[string]string{}
	for _, it := range res.Items {
		versions[it.Path()] = it.Version
		if it.Object.GetAPIVersion() == "" || it.Object.GetKind() == "" {
			t.Errorf("%s: apiVersion %q kind %q", it.Path(), it.Object.GetAPIVersion(), it.Object.GetKind())
		}
	}
	for path, want := range map[string]string{
		p("example.com/widgets/shop/w1"):   "v1",
		p("example.com/oldthings/shop/t1"): "v1beta1",
		p("apps/deployments/shop/web"):     "v1",
	} {
		if versions[path] != want {
			t.Errorf("%s read at %q, want %q", path, versions[path], want)
		}
	}
}

// Every entry of the skip list has a reason, and none is a subresource.
func TestSkipListIsDocumented(t *testing.T) {
	for gr, why := range neverBackedUp {
		if why == "" || strings.Contains(gr.Resource, "/") {
			t.Errorf("%s: reason %q", gr, why)
		}
	}
}
