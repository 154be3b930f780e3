// +kubebuilder:object:generate=true
// +groupName=cairn.dev

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is cairn.dev/v1alpha1.
	GroupVersion = schema.GroupVersion{Group: "cairn.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	// knownTypes is filled by each kind's init.
	knownTypes []runtime.Object
)

func register(objs ...runtime.Object) { knownTypes = append(knownTypes, objs...) }

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, knownTypes...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// Labels and annotations cairn sets or reads.
const (
	// LabelNode marks a work item with the node that must execute it.
	LabelNode = "cairn.dev/node"
	// LabelBackup and LabelRestore tie work items to their parent.
	LabelBackup  = "cairn.dev/backup"
	LabelRestore = "cairn.dev/restore"
	// LabelSchedule marks Backups created by a Schedule.
	LabelSchedule = "cairn.dev/schedule"
	// LabelLocation marks Backups with their location.
	LabelLocation = "cairn.dev/location"
	// LabelWorkItem marks what an agent creates for a work item (temporary
	// volumes, snapshots, PVs) with the item's UID.
	LabelWorkItem = "cairn.dev/work-item"
	// AnnotationVolumePolicy on a PVC overrides the Backup's volume policy.
	AnnotationVolumePolicy = "cairn.dev/volume-policy"
	// AnnotationCancel on a Backup asks the controller to stop it (see the
	// package doc, "Canceling a backup"). The CLI writes the time of the
	// request (RFC 3339); any non-empty value counts.
	AnnotationCancel = "cairn.dev/cancel-requested"
	// AnnotationSynced marks a Backup imported from a location by the sync
	// controller.
	AnnotationSynced = "cairn.dev/synced-from"
)
