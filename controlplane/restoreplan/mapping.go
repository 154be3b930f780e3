package restoreplan

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// labelNamespaceName is the label the API server puts on every Namespace
// with its name; NetworkPolicies select namespaces by it.
const labelNamespaceName = "kubernetes.io/metadata.name"

// mapNamespaces applies RestoreSpec.namespaceMapping to every place that
// names a namespace: the object's own, a Namespace's name, the subjects of
// role bindings, the claim a PV is bound to, and the namespace selectors
// of NetworkPolicies that use labelNamespaceName.
func mapNamespaces(gr schema.GroupResource, u *unstructured.Unstructured, mapping map[string]string) error {
	if len(mapping) == 0 {
		return nil
	}
	if to, ok := mapping[u.GetNamespace()]; ok && u.GetNamespace() != "" {
		u.SetNamespace(to)
	}
	switch gr {
	case grNamespaces:
		if old := u.GetName(); mapping[old] != "" {
			u.SetName(mapping[old])
			return mapString(u.Object, map[string]string{old: mapping[old]}, "metadata", "labels", labelNamespaceName)
		}
	case grRoleBindings, grClusterRoleBindings:
		return eachMap(u.Object, func(_ int, s map[string]any) error {
			return mapSubject(s, mapping)
		}, "subjects")
	case grPVs:
		return mapString(u.Object, mapping, "spec", "claimRef", "namespace")
	case grNetworkPolicies:
		return mapNetworkPolicy(u, mapping)
	}
	return nil
}

// mapSubject maps a ServiceAccount subject's namespace, and the user and
// group names that embed a namespace ("system:serviceaccount:ns:name",
// "system:serviceaccounts:ns").
func mapSubject(s map[string]any, mapping map[string]string) error {
	kind, _, err := nestedString(s, "kind")
	if err != nil {
		return err
	}
	name, _, err := nestedString(s, "name")
	if err != nil {
		return err
	}
	switch kind {
	case "ServiceAccount":
		return mapString(s, mapping, "namespace")
	case "User":
		parts := strings.Split(name, ":")
		if len(parts) == 4 && parts[0] == "system" && parts[1] == "serviceaccount" {
			if to, ok := mapping[parts[2]]; ok {
				s["name"] = "system:serviceaccount:" + to + ":" + parts[3]
			}
		}
	case "Group":
		if ns, ok := strings.CutPrefix(name, "system:serviceaccounts:"); ok {
			if to, ok := mapping[ns]; ok {
				s["name"] = "system:serviceaccounts:" + to
			}
		}
	}
	return nil
}

func mapNetworkPolicy(u *unstructured.Unstructured, mapping map[string]string) error {
	peers := func(rules, peer string) error {
		return eachMap(u.Object, func(_ int, rule map[string]any) error {
			return eachMap(rule, func(_ int, p map[string]any) error {
				return mapString(p, mapping, "namespaceSelector", "matchLabels", labelNamespaceName)
			}, peer)
		}, "spec", rules)
	}
	if err := peers("ingress", "from"); err != nil {
		return err
	}
	return peers("egress", "to")
}

// annBetaStorageClass is the storage class annotation that predates
// spec.storageClassName; the PV controller still honours it.
const annBetaStorageClass = "volume.beta.kubernetes.io/storage-class"

// mapStorageClasses applies RestoreSpec.storageClassMapping to claims,
// volumes, StatefulSet claim templates and the generic ephemeral volumes
// of pods and pod templates.
func mapStorageClasses(gr schema.GroupResource, u *unstructured.Unstructured, mapping map[string]string) error {
	if len(mapping) == 0 {
		return nil
	}
	switch gr {
	case grPVCs, grPVs:
		return mapClaimClass(u.Object, mapping)
	case grStatefulSets:
		if err := eachMap(u.Object, func(_ int, t map[string]any) error {
			return mapClaimClass(t, mapping)
		}, "spec", "volumeClaimTemplates"); err != nil {
			return err
		}
	}
	path, ok := podSpecPaths[gr]
	if !ok {
		return nil
	}
	return eachMap(u.Object, func(_ int, v map[string]any) error {
		t, found, err := nestedMap(v, "ephemeral", "volumeClaimTemplate")
		if err != nil || !found {
			return err
		}
		return mapClaimClass(t, mapping)
	}, append(append([]string{}, path...), "volumes")...)
}

// mapClaimClass maps the class of a PVC, PV or claim template: the field
// and the older annotation.
func mapClaimClass(obj map[string]any, mapping map[string]string) error {
	if err := mapString(obj, mapping, "spec", "storageClassName"); err != nil {
		return err
	}
	return mapString(obj, mapping, "metadata", "annotations", annBetaStorageClass)
}
