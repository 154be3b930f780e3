package restoreplan

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The resources the plan treats specially, by GroupResource: the backup
// records resources, not kinds, and a resource name is fixed by the API.
var (
	grCRDs                = schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}
	grNamespaces          = schema.GroupResource{Resource: "namespaces"}
	grStorageClasses      = schema.GroupResource{Group: "storage.k8s.io", Resource: "storageclasses"}
	grServiceAccounts     = schema.GroupResource{Resource: "serviceaccounts"}
	grClusterRoles        = schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}
	grClusterRoleBindings = schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}
	grRoles               = schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "roles"}
	grRoleBindings        = schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}
	grSecrets             = schema.GroupResource{Resource: "secrets"}
	grConfigMaps          = schema.GroupResource{Resource: "configmaps"}
	grPVs                 = schema.GroupResource{Resource: "persistentvolumes"}
	grPVCs                = schema.GroupResource{Resource: "persistentvolumeclaims"}
	grServices            = schema.GroupResource{Resource: "services"}
	grEndpoints           = schema.GroupResource{Resource: "endpoints"}
	grEndpointSlices      = schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}
	grNetworkPolicies     = schema.GroupResource{Group: "networking.k8s.io", Resource: "networkpolicies"}
	grDeployments         = schema.GroupResource{Group: "apps", Resource: "deployments"}
	grStatefulSets        = schema.GroupResource{Group: "apps", Resource: "statefulsets"}
	grDaemonSets          = schema.GroupResource{Group: "apps", Resource: "daemonsets"}
	grReplicaSets         = schema.GroupResource{Group: "apps", Resource: "replicasets"}
	grJobs                = schema.GroupResource{Group: "batch", Resource: "jobs"}
	grCronJobs            = schema.GroupResource{Group: "batch", Resource: "cronjobs"}
	grPods                = schema.GroupResource{Resource: "pods"}
	grMutatingWebhooks    = schema.GroupResource{Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"}
	grValidatingWebhooks  = schema.GroupResource{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"}
	grValidatingPolicies  = schema.GroupResource{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies"}
	grPolicyBindings      = schema.GroupResource{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings"}
)

// podSpecPaths says where a resource keeps its pod specs.
var podSpecPaths = map[schema.GroupResource][]string{
	grPods:         {"spec"},
	grDeployments:  {"spec", "template", "spec"},
	grStatefulSets: {"spec", "template", "spec"},
	grDaemonSets:   {"spec", "template", "spec"},
	grReplicaSets:  {"spec", "template", "spec"},
	grJobs:         {"spec", "template", "spec"},
	grCronJobs:     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// podLabelsPath is where the labels of the pods a resource runs live:
// the pod's own, or its template's.
func podLabelsPath(gr schema.GroupResource) []string {
	p, ok := podSpecPaths[gr]
	if !ok {
		return nil
	}
	if len(p) == 1 {
		return []string{"metadata", "labels"}
	}
	return append(append([]string{}, p[:len(p)-1]...), "metadata", "labels")
}

// builtinGroup reports whether a group is served by Kubernetes itself,
// whose controllers rebuild every status they own.
func builtinGroup(group string) bool {
	switch group {
	case "", "apps", "batch", "autoscaling", "policy", "k8s.io":
		return true
	}
	return strings.HasSuffix(group, ".k8s.io")
}
