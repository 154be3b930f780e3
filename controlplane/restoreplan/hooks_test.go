package restoreplan

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// testHooks are two hooks: one for db pods in shop-* namespaces, one for
// every pod outside kube-*.
var testHooks = []v1alpha1.RestoreResourceHook{
	{Name: "restore-db", IncludedNamespaces: []string{"shop-*"},
		LabelSelector:  &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		InitContainers: []corev1.Container{{Name: "restore", Image: "restore:1"}, {Name: "check", Image: "check:1"}}},
	{Name: "everywhere", ExcludedNamespaces: []string{"kube-*"},
		InitContainers: []corev1.Container{{Name: "hello", Image: "busybox"}, {Name: "restore", Image: "ignored"}}},
}

// The injected containers as they appear in objects.
const (
	injRestore = `{name: restore, image: "restore:1", resources: {}}`
	injCheck   = `{name: check, image: "check:1", resources: {}}`
	injHello   = `{name: hello, image: busybox, resources: {}}`
	// The catch-all hook's containers, its second left out where the
	// first hook's container of the same name goes in.
	injCatchAll = injHello + `, {name: restore, image: ignored, resources: {}}`
)

type injectCase struct {
	name     string
	gr       string
	in, want string
}

var injectCases = []injectCase{
	{
		name: "pod selected by both hooks: theirs first, in hook order, then its own",
		gr:   "pods",
		in:   `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: shop-copy, labels: {app: db}}, spec: {initContainers: [{name: own}], containers: [{name: db}]}}`,
		want: `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: shop-copy, labels: {app: db}}, spec: {initContainers: [` + injRestore + `,` + injCheck + `,` + injHello + `, {name: own}], containers: [{name: db}]}}`,
	},
	{
		name: "pod of another namespace gets the catch-all hook only",
		gr:   "pods",
		in:   `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: web, labels: {app: db}}, spec: {containers: [{name: db}]}}`,
		want: `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: web, labels: {app: db}}, spec: {initContainers: [` + injCatchAll + `], containers: [{name: db}]}}`,
	},
	{
		name: "excluded namespace gets nothing",
		gr:   "pods",
		in:   `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: kube-system}, spec: {containers: [{name: c}]}}`,
		want: `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: kube-system}, spec: {containers: [{name: c}]}}`,
	},
	{
		name: "a deployment is selected by its template's labels",
		gr:   "deployments.apps",
		in:   `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: shop-copy}, spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db}]}}}}`,
		want: `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: shop-copy}, spec: {template: {metadata: {labels: {app: db}}, spec: {initContainers: [` + injRestore + `,` + injCheck + `,` + injHello + `], containers: [{name: db}]}}}}`,
	},
	{
		name: "a deployment's own labels do not select",
		gr:   "deployments.apps",
		in:   `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: shop-copy, labels: {app: db}}, spec: {template: {spec: {containers: [{name: c}]}}}}`,
		want: `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: shop-copy, labels: {app: db}}, spec: {template: {spec: {initContainers: [` + injCatchAll + `], containers: [{name: c}]}}}}`,
	},
	{
		name: "a cron job's job template",
		gr:   "cronjobs.batch",
		in:   `{apiVersion: batch/v1, kind: CronJob, metadata: {name: c, namespace: shop-copy}, spec: {jobTemplate: {spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c}]}}}}}}`,
		want: `{apiVersion: batch/v1, kind: CronJob, metadata: {name: c, namespace: shop-copy}, spec: {jobTemplate: {spec: {template: {metadata: {labels: {app: db}}, spec: {initContainers: [` + injRestore + `,` + injCheck + `,` + injHello + `], containers: [{name: c}]}}}}}}`,
	},
	{
		name: "an injected name already there is replaced, not doubled",
		gr:   "statefulsets.apps",
		in:   `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, namespace: web}, spec: {template: {spec: {initContainers: [{name: own}, {name: hello, image: old}], containers: [{name: c}]}}}}`,
		want: `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, namespace: web}, spec: {template: {spec: {initContainers: [` + injCatchAll + `, {name: own}], containers: [{name: c}]}}}}`,
	},
	{
		name: "not a workload",
		gr:   "configmaps",
		in:   `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: web}}`,
		want: `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: web}}`,
	},
}

func TestInjectInitContainers(t *testing.T) {
	hooks, err := compileHooks(testHooks)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range injectCases {
		t.Run(tc.name, func(t *testing.T) {
			obj := u(t, tc.in)
			if err := injectInitContainers(gr(tc.gr), obj, hooks); err != nil {
				t.Fatal(err)
			}
			if want := u(t, tc.want); !sameObject(t, obj.Object, want.Object) {
				t.Errorf("got\n%s\nwant\n%s", toYAML(obj.Object), toYAML(want.Object))
			}
		})
	}
}

// Hooks select by the restored namespace: Plan maps before it injects.
func TestPlanInjectsAfterMapping(t *testing.T) {
	spec := v1alpha1.RestoreSpec{
		NamespaceMapping: map[string]string{"shop": "shop-copy"},
		Hooks: []v1alpha1.RestoreResourceHook{{Name: "h", IncludedNamespaces: []string{"shop-copy"},
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}}}},
	}
	pod := u(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: shop}, spec: {containers: [{name: c}]}}`)
	res, err := Plan([]Object{in("pods", pod)}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("items %v failed %v", res.Items, res.Failed)
	}
	inits, _, _ := nestedSlice(res.Items[0].Object.Object, "spec", "initContainers")
	if len(inits) != 1 {
		t.Errorf("init containers %v", inits)
	}
}
