package restoreplan

import "testing"

type nsMappingCase struct {
	name     string
	gr       string
	in, want string
}

var nsMappingCases = []nsMappingCase{
	{
		name: "namespaced object moves",
		gr:   "configmaps",
		in:   `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: shop}}`,
		want: `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: shop-copy}}`,
	},
	{
		name: "object of an unmapped namespace stays",
		gr:   "configmaps",
		in:   `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: other}}`,
		want: `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: other}}`,
	},
	{
		name: "namespace is renamed with its name label",
		gr:   "namespaces",
		in:   `{apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {kubernetes.io/metadata.name: shop, team: a}}}`,
		want: `{apiVersion: v1, kind: Namespace, metadata: {name: shop-copy, labels: {kubernetes.io/metadata.name: shop-copy, team: a}}}`,
	},
	{
		name: "role binding subjects follow their namespaces",
		gr:   "rolebindings.rbac.authorization.k8s.io",
		in: `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects:
- {kind: ServiceAccount, name: app, namespace: shop}
- {kind: ServiceAccount, name: mon, namespace: monitoring}
- {kind: User, name: "system:serviceaccount:ops:deployer", apiGroup: rbac.authorization.k8s.io}
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
- {kind: Group, name: "system:serviceaccounts:shop", apiGroup: rbac.authorization.k8s.io}`,
		want: `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: shop-copy}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects:
- {kind: ServiceAccount, name: app, namespace: shop-copy}
- {kind: ServiceAccount, name: mon, namespace: monitoring}
- {kind: User, name: "system:serviceaccount:ops-copy:deployer", apiGroup: rbac.authorization.k8s.io}
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
- {kind: Group, name: "system:serviceaccounts:shop-copy", apiGroup: rbac.authorization.k8s.io}`,
	},
	{
		name: "cluster role binding subjects follow their namespaces",
		gr:   "clusterrolebindings.rbac.authorization.k8s.io",
		in:   `{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: crb}, subjects: [{kind: ServiceAccount, name: app, namespace: shop}]}`,
		want: `{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: crb}, subjects: [{kind: ServiceAccount, name: app, namespace: shop-copy}]}`,
	},
	{
		name: "persistent volume follows its claim",
		gr:   "persistentvolumes",
		in:   `{apiVersion: v1, kind: PersistentVolume, metadata: {name: pv}, spec: {claimRef: {namespace: shop, name: data}}}`,
		want: `{apiVersion: v1, kind: PersistentVolume, metadata: {name: pv}, spec: {claimRef: {namespace: shop-copy, name: data}}}`,
	},
	{
		name: "network policy namespace selectors by name follow",
		gr:   "networkpolicies.networking.k8s.io",
		in: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: shop}
spec:
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}}, {podSelector: {}}]}]
  egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}}]}]`,
		want: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: shop-copy}
spec:
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops-copy}}}, {podSelector: {}}]}]
  egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}}]}]`,
	},
}

func TestMapNamespaces(t *testing.T) {
	mapping := map[string]string{"shop": "shop-copy", "ops": "ops-copy"}
	for _, tc := range nsMappingCases {
		t.Run(tc.name, func(t *testing.T) {
			obj := u(t, tc.in)
			if err := mapNamespaces(gr(tc.gr), obj, mapping); err != nil {
				t.Fatal(err)
			}
			if want := u(t, tc.want); !sameObject(t, obj.Object, want.Object) {
				t.Errorf("got\n%s\nwant\n%s", toYAML(obj.Object), toYAML(want.Object))
			}
		})
	}
}

type classMappingCase struct {
	name     string
	gr       string
	in, want string
}

var classMappingCases = []classMappingCase{
	{
		name: "claim field and annotation",
		gr:   "persistentvolumeclaims",
		in:   `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: d, namespace: s, annotations: {volume.beta.kubernetes.io/storage-class: fast}}, spec: {storageClassName: fast}}`,
		want: `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: d, namespace: s, annotations: {volume.beta.kubernetes.io/storage-class: fast-ssd}}, spec: {storageClassName: fast-ssd}}`,
	},
	{
		name: "claim without a class keeps the default",
		gr:   "persistentvolumeclaims",
		in:   `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: d, namespace: s}, spec: {resources: {}}}`,
		want: `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: d, namespace: s}, spec: {resources: {}}}`,
	},
	{
		name: "claim of an unmapped class",
		gr:   "persistentvolumeclaims",
		in:   `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: d, namespace: s}, spec: {storageClassName: slow}}`,
		want: `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: d, namespace: s}, spec: {storageClassName: slow}}`,
	},
	{
		name: "persistent volume",
		gr:   "persistentvolumes",
		in:   `{apiVersion: v1, kind: PersistentVolume, metadata: {name: pv}, spec: {storageClassName: fast}}`,
		want: `{apiVersion: v1, kind: PersistentVolume, metadata: {name: pv}, spec: {storageClassName: fast-ssd}}`,
	},
	{
		name: "stateful set claim templates",
		gr:   "statefulsets.apps",
		in: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: s}
spec:
  volumeClaimTemplates:
  - {metadata: {name: data}, spec: {storageClassName: fast}}
  - {metadata: {name: logs, annotations: {volume.beta.kubernetes.io/storage-class: fast}}}
  template: {spec: {containers: [{name: db}]}}`,
		want: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: s}
spec:
  volumeClaimTemplates:
  - {metadata: {name: data}, spec: {storageClassName: fast-ssd}}
  - {metadata: {name: logs, annotations: {volume.beta.kubernetes.io/storage-class: fast-ssd}}}
  template: {spec: {containers: [{name: db}]}}`,
	},
	{
		name: "generic ephemeral volume of a deployment's pods",
		gr:   "deployments.apps",
		in: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: s}
spec:
  template:
    spec:
      volumes:
      - {name: scratch, ephemeral: {volumeClaimTemplate: {spec: {storageClassName: fast}}}}
      - {name: cfg, configMap: {name: c}}`,
		want: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: s}
spec:
  template:
    spec:
      volumes:
      - {name: scratch, ephemeral: {volumeClaimTemplate: {spec: {storageClassName: fast-ssd}}}}
      - {name: cfg, configMap: {name: c}}`,
	},
	{
		name: "generic ephemeral volume of a pod",
		gr:   "pods",
		in:   `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: s}, spec: {volumes: [{name: x, ephemeral: {volumeClaimTemplate: {spec: {storageClassName: fast}}}}]}}`,
		want: `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: s}, spec: {volumes: [{name: x, ephemeral: {volumeClaimTemplate: {spec: {storageClassName: fast-ssd}}}}]}}`,
	},
}

func TestMapStorageClasses(t *testing.T) {
	mapping := map[string]string{"fast": "fast-ssd"}
	for _, tc := range classMappingCases {
		t.Run(tc.name, func(t *testing.T) {
			obj := u(t, tc.in)
			if err := mapStorageClasses(gr(tc.gr), obj, mapping); err != nil {
				t.Fatal(err)
			}
			if want := u(t, tc.want); !sameObject(t, obj.Object, want.Object) {
				t.Errorf("got\n%s\nwant\n%s", toYAML(obj.Object), toYAML(want.Object))
			}
		})
	}
}

func TestMappingsRejectFieldsOfTheWrongType(t *testing.T) {
	ns := map[string]string{"s": "t"}
	sc := map[string]string{"fast": "slow"}
	cases := []struct {
		name string
		gr   string
		in   string
	}{
		{name: "subjects not a list", gr: "rolebindings.rbac.authorization.k8s.io",
			in: `{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: a, namespace: s}, subjects: "x"}`},
		{name: "subject namespace not a string", gr: "rolebindings.rbac.authorization.k8s.io",
			in: `{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: a, namespace: s}, subjects: [{kind: ServiceAccount, name: x, namespace: [s]}]}`},
		{name: "claim class not a string", gr: "persistentvolumeclaims",
			in: `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: a, namespace: s}, spec: {storageClassName: 1}}`},
		{name: "volumes not a list", gr: "pods",
			in: `{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: s}, spec: {volumes: 1}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := u(t, tc.in)
			err1 := mapNamespaces(gr(tc.gr), obj, ns)
			err2 := mapStorageClasses(gr(tc.gr), obj, sc)
			if err1 == nil && err2 == nil {
				t.Error("no error")
			}
		})
	}
}
