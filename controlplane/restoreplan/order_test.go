package restoreplan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

type orderSpec struct{ gr, apiVersion, kind string }

// orderWant lists resources in the order they must be restored; services
// stand for "everything else".
var (
	orderWant = []orderSpec{
		{"customresourcedefinitions.apiextensions.k8s.io", "apiextensions.k8s.io/v1", "CustomResourceDefinition"},
		{"namespaces", "v1", "Namespace"},
		{"storageclasses.storage.k8s.io", "storage.k8s.io/v1", "StorageClass"},
		{"serviceaccounts", "v1", "ServiceAccount"},
		{"clusterroles.rbac.authorization.k8s.io", "rbac.authorization.k8s.io/v1", "ClusterRole"},
		{"clusterrolebindings.rbac.authorization.k8s.io", "rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
		{"roles.rbac.authorization.k8s.io", "rbac.authorization.k8s.io/v1", "Role"},
		{"rolebindings.rbac.authorization.k8s.io", "rbac.authorization.k8s.io/v1", "RoleBinding"},
		{"secrets", "v1", "Secret"},
		{"configmaps", "v1", "ConfigMap"},
		{"persistentvolumes", "v1", "PersistentVolume"},
		{"persistentvolumeclaims", "v1", "PersistentVolumeClaim"},
		{"services", "v1", "Service"}, // "everything else": one rank
		{"deployments.apps", "apps/v1", "Deployment"},
		{"statefulsets.apps", "apps/v1", "StatefulSet"},
		{"daemonsets.apps", "apps/v1", "DaemonSet"},
		{"replicasets.apps", "apps/v1", "ReplicaSet"},
		{"jobs.batch", "batch/v1", "Job"},
		{"cronjobs.batch", "batch/v1", "CronJob"},
		{"pods", "v1", "Pod"},
		{"mutatingwebhookconfigurations.admissionregistration.k8s.io", "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"},
		{"validatingwebhookconfigurations.admissionregistration.k8s.io", "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"},
	}
	orderOthers = []orderSpec{
		{"ingresses.networking.k8s.io", "networking.k8s.io/v1", "Ingress"},
		{"widgets.example.com", "example.com/v1", "Widget"},
		{"networkpolicies.networking.k8s.io", "networking.k8s.io/v1", "NetworkPolicy"},
	}
	orderClusterScoped = map[string]bool{"customresourcedefinitions.apiextensions.k8s.io": true, "namespaces": true,
		"storageclasses.storage.k8s.io": true, "clusterroles.rbac.authorization.k8s.io": true,
		"clusterrolebindings.rbac.authorization.k8s.io": true, "persistentvolumes": true,
		"mutatingwebhookconfigurations.admissionregistration.k8s.io":   true,
		"validatingwebhookconfigurations.admissionregistration.k8s.io": true}
)

// orderFixture is three objects of every resource of orderWant and
// orderOthers, shuffled, with each object's input position.
func orderFixture(t *testing.T) ([]Object, map[string]int) {
	t.Helper()
	var objs []Object
	for _, s := range append(slices.Clone(orderWant), orderOthers...) {
		for i := range 3 {
			ns := "shop"
			if orderClusterScoped[s.gr] {
				ns = ""
			}
			obj := u(t, fmt.Sprintf(`{apiVersion: %s, kind: %s, metadata: {name: n%d, namespace: %q}}`, s.apiVersion, s.kind, i, ns))
			objs = append(objs, Object{GroupResource: gr(s.gr), Namespaced: ns != "", Object: obj})
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
	inputPos := map[string]int{}
	for i, o := range objs {
		inputPos[o.GroupResource.String()+"/"+o.Object.GetName()] = i
	}
	return objs, inputPos
}

func TestPlanOrder(t *testing.T) {
	objs, inputPos := orderFixture(t)
	res, err := Plan(objs, v1alpha1.RestoreSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != len(objs) || len(res.Failed) > 0 {
		t.Fatalf("planned %d of %d, failed %v", len(res.Items), len(objs), res.Failed)
	}
	lastRank, lastStage, lastPos := -1, StagePrelude, -1
	for _, it := range res.Items {
		r, pos := rank(it.GroupResource), inputPos[it.GroupResource.String()+"/"+it.Object.GetName()]
		switch {
		case r < lastRank:
			t.Errorf("%s comes after a resource of a later rank", it.Ref())
		case r == lastRank && pos < lastPos:
			t.Errorf("%s: input order not kept within its rank", it.Ref())
		case it.Stage < lastStage:
			t.Errorf("%s: stage %s after stage %s", it.Ref(), it.Stage, lastStage)
		}
		lastRank, lastStage, lastPos = r, it.Stage, pos
	}
	for i, s := range orderWant {
		if i > 0 && s.gr != "services" && rank(gr(s.gr)) <= rank(gr(orderWant[i-1].gr)) {
			t.Errorf("%s does not rank after %s", s.gr, orderWant[i-1].gr)
		}
	}
	for _, o := range orderOthers {
		if rank(gr(o.gr)) != rank(grServices) {
			t.Errorf("%s is not ranked with everything else", o.gr)
		}
	}
}

func TestPlanStages(t *testing.T) {
	cases := []struct {
		gr   string
		want Stage
	}{
		{"customresourcedefinitions.apiextensions.k8s.io", StagePrelude},
		{"namespaces", StagePrelude},
		{"secrets", StagePrelude},
		{"configmaps", StagePrelude},
		{"persistentvolumes", StageVolumes},
		{"persistentvolumeclaims", StageVolumes},
		{"services", StageWorkloads},
		{"widgets.example.com", StageWorkloads},
		{"deployments.apps", StageWorkloads},
		{"pods", StageWorkloads},
		{"validatingwebhookconfigurations.admissionregistration.k8s.io", StageWorkloads},
	}
	for _, tc := range cases {
		t.Run(tc.gr, func(t *testing.T) {
			if got := stageOf(gr(tc.gr)); got != tc.want {
				t.Errorf("stage %s, want %s", got, tc.want)
			}
		})
	}
	res := &Result{Items: []Item{{GroupResource: grSecrets, Stage: StagePrelude},
		{GroupResource: grPVCs, Stage: StageVolumes}, {GroupResource: grPods, Stage: StageWorkloads}}}
	if got := res.Stage(StageVolumes); len(got) != 1 || got[0].GroupResource != grPVCs {
		t.Errorf("Stage(Volumes) = %v", got)
	}
}
