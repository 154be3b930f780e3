package restoreplan

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// stripRestored are the owners restored in the owner reference cases.
var stripRestored = map[types.UID]bool{"owner-restored": true}

type stripCase struct {
	name string
	gr   string
	opts StripOptions
	in   string
	want string
}

var stripCases = []stripCase{
	{
		name: "server-owned metadata goes, the rest stays",
		gr:   "configmaps",
		in: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: shop
  uid: 1234
  resourceVersion: "99"
  generation: 3
  creationTimestamp: "2026-01-01T00:00:00Z"
  deletionTimestamp: "2026-01-02T00:00:00Z"
  deletionGracePeriodSeconds: 30
  selfLink: /api/v1/namespaces/shop/configmaps/c
  managedFields: [{manager: kubectl, operation: Apply}]
  labels: {app: web}
  annotations: {note: kept}
  finalizers: [example.com/cleanup]
data: {k: v}`,
		want: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: shop
  labels: {app: web}
  annotations: {note: kept}
  finalizers: [example.com/cleanup]
data: {k: v}`,
	},
	{
		name: "owner references to restored owners stay, others go",
		gr:   "replicasets.apps",
		opts: StripOptions{Restored: stripRestored},
		in: `
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  namespace: shop
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: owner-restored, controller: true}
  - {apiVersion: v1, kind: ConfigMap, name: gone, uid: owner-gone}`,
		want: `
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  namespace: shop
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: owner-restored, controller: true}`,
	},
	{
		name: "owner references all to unrestored owners: the field goes",
		gr:   "configmaps",
		opts: StripOptions{Restored: stripRestored},
		in: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: shop
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: gone, uid: owner-gone}]`,
		want: `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: shop}}`,
	},
	{
		name: "status of a built-in kind goes even with restoreStatus",
		gr:   "deployments.apps",
		opts: StripOptions{RestoreStatus: true},
		in:   `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: shop}, status: {replicas: 2}}`,
		want: `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: shop}}`,
	},
	{
		name: "status of a CRD goes even with restoreStatus",
		gr:   "customresourcedefinitions.apiextensions.k8s.io",
		opts: StripOptions{RestoreStatus: true},
		in:   `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: w.example.com}, status: {storedVersions: [v1]}}`,
		want: `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: w.example.com}}`,
	},
	{
		name: "status of a custom resource goes without restoreStatus",
		gr:   "widgets.example.com",
		in:   `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: shop}, status: {ready: true}}`,
		want: `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: shop}}`,
	},
	{
		name: "status of a custom resource stays with restoreStatus",
		gr:   "widgets.example.com",
		opts: StripOptions{RestoreStatus: true},
		in:   `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: shop}, status: {ready: true}}`,
		want: `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: shop}, status: {ready: true}}`,
	},
	{
		name: "service: cluster IPs, health check port and node ports go",
		gr:   "services",
		in: `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  clusterIP: 10.0.0.7
  clusterIPs: [10.0.0.7]
  healthCheckNodePort: 31999
  externalTrafficPolicy: Local
  ports: [{port: 80, nodePort: 30080}]
status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}`,
		want: `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  ports: [{port: 80}]`,
	},
	{
		name: "service: node ports stay with KeepNodePorts",
		gr:   "services",
		opts: StripOptions{KeepNodePorts: true},
		in:   `{apiVersion: v1, kind: Service, metadata: {name: w, namespace: s}, spec: {type: NodePort, clusterIP: 10.0.0.8, ports: [{port: 80, nodePort: 30080}]}}`,
		want: `{apiVersion: v1, kind: Service, metadata: {name: w, namespace: s}, spec: {type: NodePort, ports: [{port: 80, nodePort: 30080}]}}`,
	},
	{
		name: "service: headless stays headless",
		gr:   "services",
		in:   `{apiVersion: v1, kind: Service, metadata: {name: db, namespace: s}, spec: {clusterIP: None, clusterIPs: [None], ports: [{port: 5432}]}}`,
		want: `{apiVersion: v1, kind: Service, metadata: {name: db, namespace: s}, spec: {clusterIP: None, clusterIPs: [None], ports: [{port: 5432}]}}`,
	},
	{
		name: "pod: node, priority, ephemeral containers and injected token volume go",
		gr:   "pods",
		in: `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: s}
spec:
  nodeName: node-1
  priority: 1000
  priorityClassName: high
  ephemeralContainers: [{name: debug, image: busybox}]
  initContainers:
  - name: init
    volumeMounts: [{name: kube-api-access-x7k2p, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}]
  containers:
  - name: app
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: kube-api-access-x7k2p, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
  - {name: kube-api-access-x7k2p, projected: {sources: [{serviceAccountToken: {path: token}}]}}
  - {name: mine, projected: {sources: [{configMap: {name: c}}]}}`,
		want: `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: s}
spec:
  priorityClassName: high
  initContainers:
  - {name: init}
  containers:
  - name: app
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
  - {name: mine, projected: {sources: [{configMap: {name: c}}]}}`,
	},
	{
		name: "persistent volume: claimRef identity and bound-by-controller go",
		gr:   "persistentvolumes",
		in: `
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-1
  annotations: {pv.kubernetes.io/bound-by-controller: "yes", pv.kubernetes.io/provisioned-by: csi.example.com}
spec:
  storageClassName: fast
  claimRef: {kind: PersistentVolumeClaim, namespace: shop, name: data, uid: abc, resourceVersion: "12"}
status: {phase: Bound}`,
		want: `
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-1
  annotations: {pv.kubernetes.io/provisioned-by: csi.example.com}
spec:
  storageClassName: fast
  claimRef: {kind: PersistentVolumeClaim, namespace: shop, name: data}`,
	},
	{
		name: "persistent volume claim: binding, data source and controller annotations go",
		gr:   "persistentvolumeclaims",
		in: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: shop
  annotations:
    pv.kubernetes.io/bind-completed: "yes"
    pv.kubernetes.io/bound-by-controller: "yes"
    volume.kubernetes.io/selected-node: node-1
    volume.kubernetes.io/storage-provisioner: csi.example.com
    volume.beta.kubernetes.io/storage-provisioner: csi.example.com
spec:
  storageClassName: fast
  volumeName: pv-1
  dataSource: {kind: VolumeSnapshot, name: snap, apiGroup: snapshot.storage.k8s.io}
  dataSourceRef: {kind: VolumeSnapshot, name: snap, apiGroup: snapshot.storage.k8s.io}
  resources: {requests: {storage: 1Gi}}`,
		want: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
spec:
  storageClassName: fast
  resources: {requests: {storage: 1Gi}}`,
	},
	{
		name: "service account token secret: token and old UID go",
		gr:   "secrets",
		in: `
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: app-token
  namespace: shop
  annotations: {kubernetes.io/service-account.name: app, kubernetes.io/service-account.uid: old}
data: {token: dG9r, ca.crt: Y2E=, namespace: c2hvcA==, extra: eA==}`,
		want: `
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: app-token
  namespace: shop
  annotations: {kubernetes.io/service-account.name: app}
data: {extra: eA==}`,
	},
	{
		name: "opaque secret is untouched",
		gr:   "secrets",
		in:   `{apiVersion: v1, kind: Secret, type: Opaque, metadata: {name: db, namespace: s}, data: {token: dG9r}}`,
		want: `{apiVersion: v1, kind: Secret, type: Opaque, metadata: {name: db, namespace: s}, data: {token: dG9r}}`,
	},
	{
		name: "service account: generated token secrets go",
		gr:   "serviceaccounts",
		in:   `{apiVersion: v1, kind: ServiceAccount, metadata: {name: app, namespace: s}, secrets: [{name: app-token-x9z}, {name: registry}], imagePullSecrets: [{name: registry}]}`,
		want: `{apiVersion: v1, kind: ServiceAccount, metadata: {name: app, namespace: s}, secrets: [{name: registry}], imagePullSecrets: [{name: registry}]}`,
	},
	{
		name: "job: generated selector and UID labels go",
		gr:   "jobs.batch",
		in: `
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: s
  labels: {controller-uid: u1, batch.kubernetes.io/controller-uid: u1, job-name: once, team: a}
spec:
  selector: {matchLabels: {batch.kubernetes.io/controller-uid: u1}}
  template:
    metadata:
      labels: {controller-uid: u1, batch.kubernetes.io/controller-uid: u1, job-name: once}
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}`,
		want: `
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: s
  labels: {job-name: once, team: a}
spec:
  template:
    metadata:
      labels: {job-name: once}
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}`,
	},
	{
		name: "job: a manual selector stays",
		gr:   "jobs.batch",
		in:   `{apiVersion: batch/v1, kind: Job, metadata: {name: j, namespace: s}, spec: {manualSelector: true, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}}}}`,
		want: `{apiVersion: batch/v1, kind: Job, metadata: {name: j, namespace: s}, spec: {manualSelector: true, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}}}}`,
	},
}

func TestStrip(t *testing.T) {
	for _, tc := range stripCases {
		t.Run(tc.name, func(t *testing.T) {
			obj := u(t, tc.in)
			if err := Strip(gr(tc.gr), obj, tc.opts); err != nil {
				t.Fatal(err)
			}
			if want := u(t, tc.want); !sameObject(t, obj.Object, want.Object) {
				t.Errorf("got\n%s\nwant\n%s", toYAML(obj.Object), toYAML(want.Object))
			}
		})
	}
}

func TestStripRejectsFieldsOfTheWrongType(t *testing.T) {
	cases := []struct{ name, gr, in string }{
		{"service ports not a list", "services", `{apiVersion: v1, kind: Service, metadata: {name: a, namespace: s}, spec: {ports: "80"}}`},
		{"service clusterIP not a string", "services", `{apiVersion: v1, kind: Service, metadata: {name: a, namespace: s}, spec: {clusterIP: 7}}`},
		{"pod volumes not a list", "pods", `{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: s}, spec: {volumes: {a: b}}}`},
		{"pvc annotations not a map", "persistentvolumeclaims", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: a, namespace: s, annotations: [x]}}`},
		{"job manualSelector not a bool", "jobs.batch", `{apiVersion: batch/v1, kind: Job, metadata: {name: a, namespace: s}, spec: {manualSelector: "yes"}}`},
		{"secret type not a string", "secrets", `{apiVersion: v1, kind: Secret, metadata: {name: a, namespace: s}, type: 3}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := Strip(gr(tc.gr), u(t, tc.in), StripOptions{}); err == nil {
				t.Error("no error")
			}
		})
	}
}
