package restoreplan

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// StripOptions carry what the restore around an object decides.
type StripOptions struct {
	// RestoreStatus keeps the status of objects outside Kubernetes' own
	// API groups (RestoreSpec.restoreStatus).
	RestoreStatus bool
	// KeepNodePorts keeps a Service's node ports. Plan sets it when the
	// Service's namespace is not mapped: a restore in place, or into
	// another cluster, where clients may depend on the port. A restore
	// next to the original (a mapped namespace) would collide with the
	// original's ports, so it gets fresh ones.
	KeepNodePorts bool
	// Restored holds the backed-up UIDs of every object in the restore.
	// Owner references to other UIDs are dropped.
	Restored map[types.UID]bool
}

// metadataStripped are the metadata fields the API server owns. It sets
// them on create; copying them is refused (uid, resourceVersion on
// create) or meaningless.
var metadataStripped = []string{
	"uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
	"deletionGracePeriodSeconds", "managedFields", "selfLink",
}

// kindStrippers are the rules for particular resources; see the package
// documentation for the reason behind each.
var kindStrippers = map[schema.GroupResource]func(u *unstructured.Unstructured, o StripOptions) error{
	grServices:        stripService,
	grPods:            stripPod,
	grPVs:             stripPV,
	grPVCs:            stripPVC,
	grSecrets:         stripSecret,
	grServiceAccounts: stripServiceAccount,
	grJobs:            stripJob,
}

// Strip removes, in place, what must not be copied from a backed-up
// object into a cluster: fields the API server or a controller owns, or
// that name things of the source cluster (UIDs, IPs, nodes, tokens). The
// package documentation lists every rule and why. The error reports a
// field of the wrong type.
func Strip(gr schema.GroupResource, u *unstructured.Unstructured, o StripOptions) error {
	for _, f := range metadataStripped {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	stripOwnerReferences(u, o.Restored)
	if !o.RestoreStatus || builtinGroup(gr.Group) {
		unstructured.RemoveNestedField(u.Object, "status")
	}
	if fn := kindStrippers[gr]; fn != nil {
		if err := fn(u, o); err != nil {
			return fmt.Errorf("strip %s: %w", ref(gr, u.GetNamespace(), u.GetName()), err)
		}
	}
	return nil
}

// stripOwnerReferences keeps the references to restored owners, still
// with their backed-up UIDs: Apply rewrites them to the new ones.
func stripOwnerReferences(u *unstructured.Unstructured, restored map[types.UID]bool) {
	refs := u.GetOwnerReferences()
	kept := refs[:0]
	for _, r := range refs {
		if restored[r.UID] {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		unstructured.RemoveNestedField(u.Object, "metadata", "ownerReferences")
		return
	}
	u.SetOwnerReferences(kept)
}

func stripService(u *unstructured.Unstructured, o StripOptions) error {
	ip, _, err := nestedString(u.Object, "spec", "clusterIP")
	if err != nil {
		return err
	}
	if ip != "None" {
		unstructured.RemoveNestedField(u.Object, "spec", "clusterIP")
		unstructured.RemoveNestedField(u.Object, "spec", "clusterIPs")
	}
	unstructured.RemoveNestedField(u.Object, "spec", "healthCheckNodePort")
	if o.KeepNodePorts {
		return nil
	}
	return eachMap(u.Object, func(_ int, port map[string]any) error {
		delete(port, "nodePort")
		return nil
	}, "spec", "ports")
}

// serviceAccountVolumePrefix names the projected token volume that the
// ServiceAccount admission plugin adds to every pod.
const serviceAccountVolumePrefix = "kube-api-access-"

func stripPod(u *unstructured.Unstructured, _ StripOptions) error {
	for _, f := range []string{"nodeName", "priority", "ephemeralContainers"} {
		unstructured.RemoveNestedField(u.Object, "spec", f)
	}
	dropped := map[string]bool{}
	vols, _, err := nestedSlice(u.Object, "spec", "volumes")
	if err != nil {
		return err
	}
	kept := make([]any, 0, len(vols))
	for _, v := range vols {
		m, _ := v.(map[string]any)
		name, _ := m["name"].(string)
		if _, projected := m["projected"]; projected && strings.HasPrefix(name, serviceAccountVolumePrefix) {
			dropped[name] = true
			continue
		}
		kept = append(kept, v)
	}
	if len(dropped) == 0 {
		return nil
	}
	u.Object["spec"].(map[string]any)["volumes"] = kept
	for _, list := range []string{"initContainers", "containers"} {
		if err := eachMap(u.Object, func(_ int, c map[string]any) error {
			return dropMounts(c, dropped)
		}, "spec", list); err != nil {
			return err
		}
	}
	return nil
}

func dropMounts(container map[string]any, dropped map[string]bool) error {
	mounts, _, err := nestedSlice(container, "volumeMounts")
	if err != nil {
		return err
	}
	kept := make([]any, 0, len(mounts))
	for _, mt := range mounts {
		m, _ := mt.(map[string]any)
		if name, _ := m["name"].(string); !dropped[name] {
			kept = append(kept, mt)
		}
	}
	switch {
	case len(kept) == 0:
		delete(container, "volumeMounts")
	case len(kept) < len(mounts):
		container["volumeMounts"] = kept
	}
	return nil
}

// Binding annotations the PV controller writes; see the package
// documentation.
const (
	annBindCompleted       = "pv.kubernetes.io/bind-completed"
	annBoundByController   = "pv.kubernetes.io/bound-by-controller"
	annSelectedNode        = "volume.kubernetes.io/selected-node"
	annStorageProvisioner  = "volume.kubernetes.io/storage-provisioner"
	annBetaStorageProvider = "volume.beta.kubernetes.io/storage-provisioner"
)

func stripPV(u *unstructured.Unstructured, _ StripOptions) error {
	unstructured.RemoveNestedField(u.Object, "spec", "claimRef", "uid")
	unstructured.RemoveNestedField(u.Object, "spec", "claimRef", "resourceVersion")
	return removeKeys(u.Object, []string{annBoundByController}, "metadata", "annotations")
}

func stripPVC(u *unstructured.Unstructured, _ StripOptions) error {
	for _, f := range []string{"volumeName", "dataSource", "dataSourceRef"} {
		unstructured.RemoveNestedField(u.Object, "spec", f)
	}
	return removeKeys(u.Object, []string{annBindCompleted, annBoundByController, annSelectedNode,
		annStorageProvisioner, annBetaStorageProvider}, "metadata", "annotations")
}

const (
	secretTypeSAToken = "kubernetes.io/service-account-token"
	annSAUID          = "kubernetes.io/service-account.uid"
)

func stripSecret(u *unstructured.Unstructured, _ StripOptions) error {
	t, _, err := nestedString(u.Object, "type")
	if err != nil || t != secretTypeSAToken {
		return err
	}
	if err := removeKeys(u.Object, []string{"token", "ca.crt", "namespace"}, "data"); err != nil {
		return err
	}
	return removeKeys(u.Object, []string{annSAUID}, "metadata", "annotations")
}

func stripServiceAccount(u *unstructured.Unstructured, _ StripOptions) error {
	secrets, found, err := nestedSlice(u.Object, "secrets")
	if err != nil || !found {
		return err
	}
	prefix := u.GetName() + "-token-"
	kept := make([]any, 0, len(secrets))
	for _, s := range secrets {
		m, _ := s.(map[string]any)
		if name, _ := m["name"].(string); !strings.HasPrefix(name, prefix) {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		delete(u.Object, "secrets")
	} else {
		u.Object["secrets"] = kept
	}
	return nil
}

// jobUIDLabels carry the Job's UID; the API server sets them, and the
// selector built on them, from the new UID.
var jobUIDLabels = []string{"controller-uid", "batch.kubernetes.io/controller-uid"}

func stripJob(u *unstructured.Unstructured, _ StripOptions) error {
	manual, _, err := unstructured.NestedBool(u.Object, "spec", "manualSelector")
	if err != nil || manual {
		return err
	}
	unstructured.RemoveNestedField(u.Object, "spec", "selector")
	if err := removeKeys(u.Object, jobUIDLabels, "spec", "template", "metadata", "labels"); err != nil {
		return err
	}
	return removeKeys(u.Object, jobUIDLabels, "metadata", "labels")
}
