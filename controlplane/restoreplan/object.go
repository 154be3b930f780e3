package restoreplan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Object is one backed-up API object, the input to Plan.
type Object struct {
	GroupResource schema.GroupResource
	// Namespaced says whether the resource is namespaced, as recorded at
	// backup time.
	Namespaced bool
	// Object is the object as it was read from the API server. When it is
	// nil, Raw is decoded instead.
	Object *unstructured.Unstructured
	// Raw is the object's JSON, for callers that hold bytes from the
	// repository; a decoding error becomes a per-item failure.
	Raw []byte
}

// Stage groups the items of a plan into the steps a restore waits
// between. Items of a stage may be applied in any order after the items
// of the previous stages; within a stage, Result.Items is in dependency
// order.
type Stage int

const (
	// StagePrelude holds what volumes and workloads refer to: CRDs,
	// namespaces, storage classes, identities, RBAC, secrets, config maps.
	StagePrelude Stage = iota
	// StageVolumes holds PersistentVolumes and PersistentVolumeClaims.
	// After it, the caller restores the volumes' data and waits, so that no
	// workload sees an empty volume.
	StageVolumes
	// StageWorkloads holds everything else, workloads and custom resources
	// (whose operators may start pods) included.
	StageWorkloads
)

func (s Stage) String() string {
	switch s {
	case StagePrelude:
		return "Prelude"
	case StageVolumes:
		return "Volumes"
	case StageWorkloads:
		return "Workloads"
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// Item is one object of a plan: filtered, mapped, cleaned and ready for
// Apply.
type Item struct {
	GroupResource schema.GroupResource
	Namespaced    bool
	// Object is what Apply creates. Its owner references name other items
	// by their backed-up UIDs; Apply rewrites them (see Owners).
	Object *unstructured.Unstructured
	Stage  Stage
	// SourceNamespace is the object's namespace in the backup, before the
	// namespace mapping: backup records (VolumeSnapshotRecord.PVC) use it.
	SourceNamespace string
	// SourceUID is the object's UID in the backup.
	SourceUID types.UID
}

// Ref names the item for messages: "deployments.apps shop/web",
// "namespaces shop".
func (it Item) Ref() string {
	ns, name := it.names()
	return ref(it.GroupResource, ns, name)
}

// RestoreItem is the status entry for the item with the given result.
func (it Item) RestoreItem(r v1alpha1.ItemResult, message string) v1alpha1.RestoreItem {
	ns, name := it.names()
	return v1alpha1.RestoreItem{Resource: it.GroupResource.String(), Namespace: ns,
		Name: name, Result: r, Message: message}
}

func (it Item) names() (namespace, name string) {
	if it.Object == nil {
		return "", ""
	}
	return it.Object.GetNamespace(), it.Object.GetName()
}

// Result is a restore plan.
type Result struct {
	// Items in restore order; their stages ascend.
	Items []Item
	// Skipped lists objects the filters selected but that are never
	// restored, with the reason (see the package documentation).
	Skipped []v1alpha1.RestoreItem
	// Failed lists objects that could not be planned (malformed JSON, no
	// kind or name, a field of the wrong type).
	Failed []v1alpha1.RestoreItem
}

// Stage returns the items of one stage, in order.
func (r *Result) Stage(s Stage) []Item {
	var out []Item
	for _, it := range r.Items {
		if it.Stage == s {
			out = append(out, it)
		}
	}
	return out
}

func ref(gr schema.GroupResource, namespace, name string) string {
	if namespace == "" {
		return gr.String() + " " + name
	}
	return gr.String() + " " + namespace + "/" + name
}
