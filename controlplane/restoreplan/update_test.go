package restoreplan

import "testing"

type mergeCase struct {
	name                string
	gr                  string
	live, desired, want string
}

var mergeCases = []mergeCase{
	{
		name: "config map: content, labels and annotations replaced; identity and controller annotations kept",
		gr:   "configmaps",
		live: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: s
  uid: live-uid
  resourceVersion: "7"
  labels: {changed: "yes"}
  annotations: {note: live, deployment.kubernetes.io/revision: "3"}
  finalizers: [example.com/f]
data: {mode: debug, extra: x}
binaryData: {b: eA==}`,
		desired: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: s
  labels: {app: web}
  annotations: {note: backup}
data: {mode: production}`,
		want: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: s
  uid: live-uid
  resourceVersion: "7"
  labels: {app: web}
  annotations: {note: backup, deployment.kubernetes.io/revision: "3"}
  finalizers: [example.com/f]
data: {mode: production}`,
	},
	{
		name: "claim: labels and annotations only, spec and binding kept",
		gr:   "persistentvolumeclaims",
		live: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: d, namespace: s, annotations: {pv.kubernetes.io/bind-completed: "yes"}}
spec: {volumeName: pv-9, storageClassName: fast}
status: {phase: Bound}`,
		desired: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: d, namespace: s, labels: {app: db}}
spec: {storageClassName: slow}`,
		want: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: d, namespace: s, labels: {app: db}, annotations: {pv.kubernetes.io/bind-completed: "yes"}}
spec: {volumeName: pv-9, storageClassName: fast}
status: {phase: Bound}`,
	},
	{
		name: "stateful set: immutable fields kept from the live object",
		gr:   "statefulsets.apps",
		live: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: s}
spec:
  replicas: 5
  serviceName: db
  selector: {matchLabels: {app: db}}
  volumeClaimTemplates: [{metadata: {name: data}, spec: {storageClassName: fast}}]
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: "db:2"}]}}
status: {replicas: 5}`,
		desired: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: s}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  volumeClaimTemplates: [{metadata: {name: data}, spec: {storageClassName: slow}}]
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: "db:1"}]}}`,
		want: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: s}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  volumeClaimTemplates: [{metadata: {name: data}, spec: {storageClassName: fast}}]
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: "db:1"}]}}
status: {replicas: 5}`,
	},
	{
		name:    "custom resource: spec and a restored status replace the live ones",
		gr:      "widgets.example.com",
		live:    `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: s}, spec: {color: red, size: 1}, status: {ready: false}}`,
		desired: `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: s}, spec: {color: blue}, status: {ready: true}}`,
		want:    `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: s}, spec: {color: blue}, status: {ready: true}}`,
	},
	{
		name:    "role: rules replaced",
		gr:      "roles.rbac.authorization.k8s.io",
		live:    `{apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: r, namespace: s, labels: {x: y}}, rules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"]}]}`,
		desired: `{apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: r, namespace: s}, rules: [{verbs: [get], apiGroups: [""], resources: [pods]}]}`,
		want:    `{apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: r, namespace: s}, rules: [{verbs: [get], apiGroups: [""], resources: [pods]}]}`,
	},
}

func TestMergeForUpdate(t *testing.T) {
	for _, tc := range mergeCases {
		t.Run(tc.name, func(t *testing.T) {
			live := u(t, tc.live)
			liveBefore := live.DeepCopy()
			got := mergeForUpdate(gr(tc.gr), live, u(t, tc.desired))
			if want := u(t, tc.want); !sameObject(t, got.Object, want.Object) {
				t.Errorf("got\n%s\nwant\n%s", toYAML(got.Object), toYAML(want.Object))
			}
			if !sameObject(t, live.Object, liveBefore.Object) {
				t.Error("the live object was modified")
			}
		})
	}
}
