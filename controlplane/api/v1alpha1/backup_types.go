package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VolumePolicy chooses a data path per volume. The most specific rule
// wins: the PVC annotation cairn.dev/volume-policy, then the StorageClass,
// then the CSI driver, then Default.
type VolumePolicy struct {
	// Default defaults to snapshot-move.
	// +optional
	Default DataPath `json:"default,omitempty"`
	// +optional
	StorageClasses map[string]DataPath `json:"storageClasses,omitempty"`
	// +optional
	Drivers map[string]DataPath `json:"drivers,omitempty"`
}

// BackupResourceHook selects pods and the hooks to run on them. Hooks can
// also be declared on pods with annotations (see the hooks package).
type BackupResourceHook struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	IncludedNamespaces []string `json:"includedNamespaces,omitempty"`
	// +optional
	ExcludedNamespaces []string `json:"excludedNamespaces,omitempty"`
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	// +optional
	Pre []Hook `json:"pre,omitempty"`
	// +optional
	Post []Hook `json:"post,omitempty"`
}

// BackupSpec says what to protect.
type BackupSpec struct {
	// Namespaces to include, as globs; empty means all.
	// +optional
	IncludedNamespaces []string `json:"includedNamespaces,omitempty"`
	// +optional
	ExcludedNamespaces []string `json:"excludedNamespaces,omitempty"`
	// Resources to include, as "resource" or "resource.group" globs; empty
	// means all.
	// +optional
	IncludedResources []string `json:"includedResources,omitempty"`
	// +optional
	ExcludedResources []string `json:"excludedResources,omitempty"`
	// IncludeClusterResources: true includes all cluster-scoped resources,
	// false none; unset includes them only when all namespaces are selected.
	// +optional
	IncludeClusterResources *bool `json:"includeClusterResources,omitempty"`
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	// OrLabelSelectors select objects matching any one of them; exclusive
	// with LabelSelector.
	// +optional
	OrLabelSelectors []*metav1.LabelSelector `json:"orLabelSelectors,omitempty"`
	// TTL after which the backup expires; default 720h.
	// +optional
	TTL *metav1.Duration `json:"ttl,omitempty"`
	// LocationName defaults to "default".
	// +optional
	LocationName string `json:"locationName,omitempty"`
	// +optional
	VolumePolicy VolumePolicy `json:"volumePolicy,omitempty"`
	// +optional
	Hooks []BackupResourceHook `json:"hooks,omitempty"`
}

// BackupPhase is where a backup is in its life.
// +kubebuilder:validation:Enum="";New;InProgress;WaitingForVolumes;Completed;PartiallyFailed;Failed;Deleting
type BackupPhase string

const (
	BackupNew               BackupPhase = "New"
	BackupInProgress        BackupPhase = "InProgress"
	BackupWaitingForVolumes BackupPhase = "WaitingForVolumes"
	BackupCompleted         BackupPhase = "Completed"
	BackupPartiallyFailed   BackupPhase = "PartiallyFailed"
	BackupFailed            BackupPhase = "Failed"
	BackupDeleting          BackupPhase = "Deleting"
)

// Done reports whether the phase is final.
func (p BackupPhase) Done() bool {
	return p == BackupCompleted || p == BackupPartiallyFailed || p == BackupFailed
}

// VolumeSnapshotRecord ties a backed-up PVC to its repository snapshot.
type VolumeSnapshotRecord struct {
	PVC ObjectRef `json:"pvc"`
	// +optional
	SnapshotID string `json:"snapshotID,omitempty"`
	// +optional
	DataPath DataPath `json:"dataPath,omitempty"`
	// CSIDriver that provisioned the volume: a restore creates the new
	// volume through it when the claim names no storage class.
	// +optional
	CSIDriver string `json:"csiDriver,omitempty"`
	// +optional
	Bytes int64 `json:"bytes,omitempty"`
	// +optional
	Phase WorkPhase `json:"phase,omitempty"`
}

// BackupStatus reports a backup's progress and outcome.
type BackupStatus struct {
	// +optional
	Phase BackupPhase `json:"phase,omitempty"`
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// +optional
	Expiration *metav1.Time `json:"expiration,omitempty"`
	// +optional
	ItemsBackedUp int `json:"itemsBackedUp,omitempty"`
	// +optional
	VolumesTotal int `json:"volumesTotal,omitempty"`
	// +optional
	VolumesCompleted int `json:"volumesCompleted,omitempty"`
	// +optional
	VolumesFailed int `json:"volumesFailed,omitempty"`
	// +optional
	Progress Progress `json:"progress,omitempty"`
	// +optional
	Warnings []string `json:"warnings,omitempty"`
	// +optional
	Errors []string `json:"errors,omitempty"`
	// ResourcesSnapshotID is the repository snapshot of the API objects.
	// +optional
	ResourcesSnapshotID string `json:"resourcesSnapshotID,omitempty"`
	// +optional
	VolumeSnapshots []VolumeSnapshotRecord `json:"volumeSnapshots,omitempty"`
	// ManifestID is the repository object describing the whole backup.
	// +optional
	ManifestID string `json:"manifestID,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Backup protects a selection of API objects and volumes.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Items",type=integer,JSONPath=`.status.itemsBackedUp`
// +kubebuilder:printcolumn:name="Volumes",type=integer,JSONPath=`.status.volumesTotal`
// +kubebuilder:printcolumn:name="Bytes",type=integer,JSONPath=`.status.progress.bytesDone`
// +kubebuilder:printcolumn:name="Location",type=string,JSONPath=`.spec.locationName`
// +kubebuilder:printcolumn:name="Expires",type=date,JSONPath=`.status.expiration`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Backup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BackupSpec   `json:"spec,omitempty"`
	Status BackupStatus `json:"status,omitempty"`
}

// BackupList is a list of Backups.
// +kubebuilder:object:root=true
type BackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Backup `json:"items"`
}

func init() {
	register(&Backup{}, &BackupList{})
}
