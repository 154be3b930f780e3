package restoreplan

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// metadataOnlyUpdate are the resources whose content cannot change once
// created or bound: an update takes their labels and annotations only.
// A PV's and a PVC's specs are immutable once bound (their data comes
// through a VolumeRestore), a Pod's spec is immutable but for images, a
// Job's selector and template are immutable, and a Namespace has no
// content but its finalizers, which belong to the cluster.
var metadataOnlyUpdate = map[schema.GroupResource]bool{
	grPVs: true, grPVCs: true, grPods: true, grJobs: true, grNamespaces: true,
}

// keptFromLive are fields an update leaves as they are live because the
// API server refuses to change them: copying the backup's (possibly
// storage-class-mapped) value would fail the whole update.
var keptFromLive = map[schema.GroupResource][][]string{
	grStatefulSets: {
		{"spec", "selector"}, {"spec", "serviceName"}, {"spec", "volumeClaimTemplates"},
		{"spec", "podManagementPolicy"},
	},
	grDeployments: {{"spec", "selector"}},
	grDaemonSets:  {{"spec", "selector"}},
	grReplicaSets: {{"spec", "selector"}},
}

// controllerAnnotationPrefixes mark annotations that controllers write on
// live objects: an update keeps the live ones, since removing, say, a
// PVC's bind-completed annotation would disturb the PV controller.
var controllerAnnotationPrefixes = []string{
	"pv.kubernetes.io/", "volume.kubernetes.io/", "volume.beta.kubernetes.io/storage-provisioner",
	"deployment.kubernetes.io/", "control-plane.alpha.kubernetes.io/",
}

// mergeForUpdate builds the object that an update writes: the live object
// (its identity, resourceVersion, owners, finalizers, status) with the
// backup's labels, annotations, content, and status if Plan kept it.
// Content is every top-level field other than apiVersion, kind, metadata
// and status: spec for most kinds, data and binaryData for ConfigMaps and
// Secrets, rules for roles, subjects for bindings. Fields the backup lacks
// are removed, so the result is the backup's version, not a union. A
// Service whose clusterIP and node ports were stripped keeps the live
// ones: the API server carries allocated values over on update.
func mergeForUpdate(gr schema.GroupResource, live, desired *unstructured.Unstructured) *unstructured.Unstructured {
	out := live.DeepCopy()
	out.SetLabels(desired.GetLabels())
	out.SetAnnotations(mergeAnnotations(live.GetAnnotations(), desired.GetAnnotations()))
	if metadataOnlyUpdate[gr] {
		return out
	}
	reserved := map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "status": true}
	for k := range out.Object {
		if !reserved[k] {
			delete(out.Object, k)
		}
	}
	for k, v := range desired.Object {
		if !reserved[k] {
			out.Object[k] = runtime.DeepCopyJSONValue(v)
		}
	}
	// A status Plan kept (restoreStatus) replaces the live one. Resources
	// with a status subresource ignore it here, and Apply writes it
	// through the subresource; the others take it with the update.
	if status, found := desired.Object["status"]; found {
		out.Object["status"] = runtime.DeepCopyJSONValue(status)
	}
	for _, path := range keptFromLive[gr] {
		v, found, err := unstructured.NestedFieldCopy(live.Object, path...)
		if err == nil && found {
			_ = unstructured.SetNestedField(out.Object, v, path...)
		}
	}
	return out
}

func mergeAnnotations(live, desired map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range live {
		for _, p := range controllerAnnotationPrefixes {
			if strings.HasPrefix(k, p) {
				out[k] = v
			}
		}
	}
	for k, v := range desired {
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
