package restoreplan

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// restoreOrder lists the resources that come before the rest, in the
// order they are restored: each may be referred to by the ones after it.
var restoreOrder = []schema.GroupResource{
	grCRDs,
	grNamespaces,
	grStorageClasses,
	grServiceAccounts,
	grClusterRoles,
	grClusterRoleBindings,
	grRoles,
	grRoleBindings,
	grSecrets,
	grConfigMaps,
	grPVs,
	grPVCs,
}

// workloadOrder lists the resources that run pods. They come last, after
// everything else, so that a pod finds its volumes, config and identity.
var workloadOrder = []schema.GroupResource{
	grDeployments,
	grStatefulSets,
	grDaemonSets,
	grReplicaSets,
	grJobs,
	grCronJobs,
	grPods,
}

// admissionOrder lists admission webhooks and policies. They come after
// the workloads: a webhook restored earlier would intercept the restore of
// everything after it while its own server, often one of the restored
// workloads, is not running yet, and with failurePolicy Fail reject it.
var admissionOrder = []schema.GroupResource{
	grMutatingWebhooks,
	grValidatingWebhooks,
	grValidatingPolicies,
	grPolicyBindings,
}

// rank is a resource's place in the restore order.
func rank(gr schema.GroupResource) int {
	if i := slices.Index(restoreOrder, gr); i >= 0 {
		return i
	}
	others := len(restoreOrder)
	if i := slices.Index(workloadOrder, gr); i >= 0 {
		return others + 1 + i
	}
	if i := slices.Index(admissionOrder, gr); i >= 0 {
		return others + 1 + len(workloadOrder) + i
	}
	return others
}

// stageOf puts a resource into its stage.
func stageOf(gr schema.GroupResource) Stage {
	switch r := rank(gr); {
	case r < slices.Index(restoreOrder, grPVs):
		return StagePrelude
	case r <= slices.Index(restoreOrder, grPVCs):
		return StageVolumes
	default:
		return StageWorkloads
	}
}

// sortItems puts items in restore order, keeping the input order among
// items of the same rank.
func sortItems(items []Item) {
	slices.SortStableFunc(items, func(a, b Item) int {
		return rank(a.GroupResource) - rank(b.GroupResource)
	})
}
