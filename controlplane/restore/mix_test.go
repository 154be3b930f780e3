package restore_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/internal/cptest"
)

// mix is a namespace as applications really look: workloads, networking,
// RBAC, configuration and a custom resource with its CRD.
const mix = `
apiVersion: v1
kind: Namespace
metadata: {name: mix}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: mix}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: mix}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-reads, namespace: mix}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: app, namespace: mix}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: mix, labels: {app: web}}
data: {mode: production}
---
apiVersion: v1
kind: Secret
metadata: {name: token, namespace: mix}
stringData: {token: not-a-real-token}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: mix}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: mix}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: app
      containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: mix}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "postgres:17", volumeMounts: [{name: data, mountPath: /data}]}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: mix}
spec:
  rules: [{host: shop.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only, namespace: mix}
spec: {podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]}
`

const widget = `
apiVersion: example.com/v1
kind: Widget
metadata: {name: blue, namespace: mix}
spec: {color: blue, size: 3}
`

func decode(t *testing.T, docs string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(docs), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// comparable is what must survive a round trip: labels, annotations and
// content, without what the API server assigns.
func comparable(u *unstructured.Unstructured) map[string]any {
	out := map[string]any{"labels": u.GetLabels()}
	for k, v := range u.Object {
		switch k {
		case "metadata", "status", "apiVersion", "kind":
		default:
			out[k] = v
		}
	}
	if spec, ok := out["spec"].(map[string]any); ok && u.GetKind() == "Service" {
		delete(spec, "clusterIP")
		delete(spec, "clusterIPs")
	}
	b, _ := json.Marshal(out)
	var norm map[string]any
	_ = json.Unmarshal(b, &norm)
	return norm
}

// Back up the mix, delete every object in it, restore, and compare each
// object with the original field by field after the documented stripping.
func TestRealisticNamespaceRoundTrip(t *testing.T) {
	f := cptest.Start(t)
	ctx := context.Background()
	objs := decode(t, mix)
	for _, o := range objs {
		if err := f.C.Create(ctx, o); err != nil {
			t.Fatalf("create %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	w := decode(t, widget)[0]
	createEventually(t, f, w)
	objs = append(objs, w)
	originals := map[string]map[string]any{}
	for _, o := range objs {
		live := o.DeepCopy()
		if err := f.C.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
			t.Fatal(err)
		}
		originals[key(o)] = comparable(live)
	}
	f.Create(t, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "mix-1", Namespace: cptest.NS},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"mix"}}})
	if b := f.WaitBackup(t, "mix-1"); b.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("backup: %s %v %v", b.Status.Phase, b.Status.Errors, b.Status.Warnings)
	}
	for i := len(objs) - 1; i >= 1; i-- { // everything but the Namespace, which envtest cannot finalize
		if err := f.C.Delete(ctx, objs[i]); err != nil {
			t.Fatalf("delete %s: %v", key(objs[i]), err)
		}
	}
	waitGone(t, f, objs[1:])
	f.Create(t, &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Name: "mix-back", Namespace: cptest.NS},
		Spec: v1alpha1.RestoreSpec{BackupName: "mix-1"}})
	rs := f.WaitRestore(t, "mix-back")
	if rs.Status.Phase != v1alpha1.RestoreCompleted || rs.Status.Counts.Created < len(objs)-1 {
		t.Fatalf("restore: %s %+v %v", rs.Status.Phase, rs.Status.Counts, rs.Status.Errors)
	}
	for _, o := range objs {
		live := o.DeepCopy()
		if err := f.C.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
			t.Errorf("%s was not restored: %v", key(o), err)
			continue
		}
		if got := comparable(live); !reflect.DeepEqual(got, originals[key(o)]) {
			t.Errorf("%s differs after the round trip:\n got %v\nwant %v", key(o), got, originals[key(o)])
		}
	}
}

func key(u *unstructured.Unstructured) string {
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// createEventually creates a custom resource once its CRD is served.
func createEventually(t *testing.T, f *cptest.Fixture, u *unstructured.Unstructured) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f.C.Create(context.Background(), u.DeepCopy())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("create %s: %v", key(u), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func waitGone(t *testing.T, f *cptest.Fixture, objs []*unstructured.Unstructured) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, o := range objs {
		for {
			err := f.C.Get(context.Background(), client.ObjectKeyFromObject(o), o.DeepCopy())
			if client.IgnoreNotFound(err) == nil && err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s was not deleted", key(o))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
