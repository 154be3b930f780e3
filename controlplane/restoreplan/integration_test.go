package restoreplan

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// seedDocs is a realistic namespace, in creation order. The ReplicaSet's
// owner reference is filled in at seeding (no controllers run here).
var seedDocs = []struct{ gr, doc string }{
	{"customresourcedefinitions.apiextensions.k8s.io", `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, color: {type: string}}}
          status: {type: object, properties: {ready: {type: boolean}}}`},
	{"namespaces", `{apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {team: a}}}`},
	{"namespaces", `{apiVersion: v1, kind: Namespace, metadata: {name: noise}}`},
	{"configmaps", `{apiVersion: v1, kind: ConfigMap, metadata: {name: other, namespace: noise}, data: {a: b}}`},
	{"serviceaccounts", `{apiVersion: v1, kind: ServiceAccount, metadata: {name: app, namespace: shop}}`},
	{"roles.rbac.authorization.k8s.io", `{apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: reader, namespace: shop}, rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]}`},
	{"rolebindings.rbac.authorization.k8s.io", `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: app, namespace: shop}]`},
	{"secrets", `{apiVersion: v1, kind: Secret, metadata: {name: db, namespace: shop}, type: Opaque, data: {password: czNjcmV0}}`},
	{"configmaps", `{apiVersion: v1, kind: ConfigMap, metadata: {name: app-config, namespace: shop, labels: {app: web}}, data: {mode: production}}`},
	{"configmaps", `{apiVersion: v1, kind: ConfigMap, metadata: {name: kube-root-ca.crt, namespace: shop}, data: {ca.crt: old}}`},
	{"persistentvolumeclaims", `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop, annotations: {volume.kubernetes.io/selected-node: node-1}}
spec: {storageClassName: standard, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}`},
	{"services", `{apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {selector: {app: web}, ports: [{port: 80}]}}`},
	{"services", `{apiVersion: v1, kind: Service, metadata: {name: web-np, namespace: shop}, spec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}}`},
	{"services", `{apiVersion: v1, kind: Service, metadata: {name: db, namespace: shop}, spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}}`},
	{"deployments.apps", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: app
      containers: [{name: web, image: "nginx:1.27", envFrom: [{configMapRef: {name: app-config}}], volumeMounts: [{name: data, mountPath: /data}]}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]`},
	{"replicasets.apps", `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-5d8f, namespace: shop, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: "nginx:1.27"}]}}`},
	{"statefulsets.apps", `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: "postgres:17", volumeMounts: [{name: pgdata, mountPath: /var/lib/postgresql}]}]}}
  volumeClaimTemplates:
  - metadata: {name: pgdata}
    spec: {storageClassName: standard, accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}`},
	{"pods", `
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop, labels: {app: debug}}
spec:
  nodeName: node-1
  serviceAccountName: app
  containers: [{name: sh, image: busybox, volumeMounts: [{name: kube-api-access-abcde, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}]}]
  # What the ServiceAccount admission plugin adds; it is off in this API
  # server, so the test adds it.
  volumes: [{name: kube-api-access-abcde, projected: {sources: [{serviceAccountToken: {path: token}}]}}]`},
	{"ingresses.networking.k8s.io", `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec: {rules: [{host: shop.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]}`},
	{"networkpolicies.networking.k8s.io", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: same-namespace, namespace: shop}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]}]`},
	{"widgets.example.com", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w1, namespace: shop, labels: {app: web}}, spec: {size: 3, color: blue}}`},
}

func gvrOf(g string, obj *unstructured.Unstructured) schema.GroupVersionResource {
	gv, _ := schema.ParseGroupVersion(obj.GetAPIVersion())
	return gr(g).WithVersion(gv.Version)
}

// seed creates seedDocs and returns them as read back from the server:
// what a backup captures.
func seed(ctx context.Context, t *testing.T, dyn dynamic.Interface) []Object {
	t.Helper()
	var out []Object
	var deploymentRef []any
	for _, s := range seedDocs {
		obj := u(t, s.doc)
		if s.gr == "replicasets.apps" {
			obj.Object["metadata"].(map[string]any)["ownerReferences"] = deploymentRef
		}
		rc := dyn.Resource(gvrOf(s.gr, obj)).Namespace(obj.GetNamespace())
		var created *unstructured.Unstructured
		err := retryFor(10*time.Second, func() (err error) { // a new CRD takes a moment to be served
			created, err = rc.Create(ctx, obj, metav1.CreateOptions{})
			return err
		})
		if err != nil {
			t.Fatalf("seed %s %s: %v", s.gr, obj.GetName(), err)
		}
		if s.gr == "widgets.example.com" {
			created.Object["status"] = map[string]any{"ready": true}
			if created, err = rc.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if s.gr == "deployments.apps" {
			deploymentRef = []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
				"uid": string(created.GetUID()), "controller": true}}
		}
		out = append(out, Object{GroupResource: gr(s.gr), Namespaced: created.GetNamespace() != "", Object: created})
	}
	return out
}

func retryFor(d time.Duration, fn func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deleteCRD removes the CRD (and so the original widgets), so that the
// restore has to create it and wait for it before the widget.
func deleteCRD(ctx context.Context, t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	rc := dyn.Resource(crdGVR)
	if err := rc.Delete(ctx, "widgets.example.com", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err := retryFor(time.Minute, func() error {
		_, err := rc.Get(ctx, "widgets.example.com", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errors.New("CRD still there")
	})
	if err != nil {
		t.Fatal(err)
	}
}

// applyAll applies every item in order and counts the results.
func applyAll(ctx context.Context, t *testing.T, deps Deps, items []Item, policy v1alpha1.ExistingPolicy) map[v1alpha1.ItemResult]int {
	t.Helper()
	counts := map[v1alpha1.ItemResult]int{}
	for _, it := range items {
		got, err := Apply(ctx, deps, it, policy)
		if err != nil {
			t.Errorf("apply %s (policy %q): %v", it.Ref(), policy, err)
		}
		counts[got.Result]++
	}
	if err := deps.Owners.Finish(ctx, deps); err != nil {
		t.Error(err)
	}
	return counts
}

func restoreSpec() v1alpha1.RestoreSpec {
	return v1alpha1.RestoreSpec{
		BackupName:          "b",
		IncludedNamespaces:  []string{"shop"},
		NamespaceMapping:    map[string]string{"shop": "shop-copy"},
		StorageClassMapping: map[string]string{"standard": "fast"},
		RestoreStatus:       true,
		Hooks: []v1alpha1.RestoreResourceHook{{Name: "warm", LabelSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{"app": "web"}},
			InitContainers: []corev1.Container{{Name: "warm-cache", Image: "busybox", Command: []string{"true"}}}}},
	}
}

// On a real API server: capture a namespace, restore it into a mapped
// namespace, then again with policy none and policy update.
func TestRestoreIntoMappedNamespaceOnAPIServer(t *testing.T) {
	env := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dyn := dynamic.NewForConfigOrDie(env.Config)
	backup := seed(ctx, t, dyn)
	deleteCRD(ctx, t, dyn)

	res, err := Plan(backup, restoreSpec())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) > 0 || len(res.Skipped) != 1 || res.Skipped[0].Name != rootCAConfigMap {
		t.Fatalf("failed %+v, skipped %+v", res.Failed, res.Skipped)
	}
	// Everything seeded in shop and the CRD, less noise and kube-root-ca.crt.
	if want := len(seedDocs) - 3; len(res.Items) != want {
		t.Fatalf("planned %d items, want %d: %v", len(res.Items), want, refs(res.Items))
	}
	deps := Deps{Dynamic: dyn, Owners: NewOwners()}
	counts := applyAll(ctx, t, deps, res.Items, v1alpha1.ExistingNone)
	if counts[v1alpha1.ItemCreated] != len(res.Items) {
		t.Fatalf("results %v, want %d created", counts, len(res.Items))
	}
	checkRestored(ctx, t, dyn, backup, res.Items)

	counts = applyAll(ctx, t, Deps{Dynamic: dyn, Owners: NewOwners()}, res.Items, v1alpha1.ExistingNone)
	if counts[v1alpha1.ItemSkipped] != len(res.Items) {
		t.Errorf("second restore, policy none: %v, want %d skipped", counts, len(res.Items))
	}
	driftLiveObjects(ctx, t, dyn)
	counts = applyAll(ctx, t, Deps{Dynamic: dyn, Owners: NewOwners()}, res.Items, v1alpha1.ExistingUpdate)
	if counts[v1alpha1.ItemUpdated] != len(res.Items) {
		t.Errorf("third restore, policy update: %v, want %d updated", counts, len(res.Items))
	}
	checkUpdated(ctx, t, dyn)
	checkNamespaceErrors(ctx, t, dyn)
	checkTakenNodePort(ctx, t, dyn, backup)
}
