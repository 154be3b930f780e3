// +kubebuilder:object:generate=true
// +groupName=cairn.dev

package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is cairn.dev/v1alpha1.
	GroupVersion = schema.GroupVersion{Group: "cairn.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

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
	// AnnotationVolumePolicy on a PVC overrides the Backup's volume policy.
	AnnotationVolumePolicy = "cairn.dev/volume-policy"
	// AnnotationSynced marks a Backup imported from a location by the sync
	// controller.
	AnnotationSynced = "cairn.dev/synced-from"
)
