package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ExistingPolicy says what to do with objects that already exist.
// +kubebuilder:validation:Enum=none;update
type ExistingPolicy string

const (
	// ExistingNone leaves existing objects alone and records them skipped.
	ExistingNone ExistingPolicy = "none"
	// ExistingUpdate overwrites their spec and labels with the backup's.
	ExistingUpdate ExistingPolicy = "update"
)

// RestoreExecHook runs a command in a restored pod once it is ready.
type RestoreExecHook struct {
	// +optional
	Container string `json:"container,omitempty"`
	// +kubebuilder:validation:MinItems=1
	Command []string `json:"command"`
	// WaitTimeout bounds the wait for the pod to be ready; default 5m.
	// +optional
	WaitTimeout *metav1.Duration `json:"waitTimeout,omitempty"`
	// ExecTimeout bounds the command; default 30s.
	// +optional
	ExecTimeout *metav1.Duration `json:"execTimeout,omitempty"`
	// +optional
	OnError OnError `json:"onError,omitempty"`
}

// RestoreResourceHook selects restored pods and their hooks.
type RestoreResourceHook struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	IncludedNamespaces []string `json:"includedNamespaces,omitempty"`
	// +optional
	ExcludedNamespaces []string `json:"excludedNamespaces,omitempty"`
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	// PostRestore exec hooks run once each selected pod is ready.
	// +optional
	PostRestore []RestoreExecHook `json:"postRestore,omitempty"`
	// InitContainers are injected at the front of selected pods' init
	// containers (and of workload pod templates).
	// +optional
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
}

// RestoreSpec says what to bring back and how.
type RestoreSpec struct {
	// +kubebuilder:validation:MinLength=1
	BackupName string `json:"backupName"`
	// +optional
	IncludedNamespaces []string `json:"includedNamespaces,omitempty"`
	// +optional
	ExcludedNamespaces []string `json:"excludedNamespaces,omitempty"`
	// +optional
	IncludedResources []string `json:"includedResources,omitempty"`
	// +optional
	ExcludedResources []string `json:"excludedResources,omitempty"`
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	// NamespaceMapping renames namespaces: old → new.
	// +optional
	NamespaceMapping map[string]string `json:"namespaceMapping,omitempty"`
	// StorageClassMapping renames storage classes: old → new.
	// +optional
	StorageClassMapping map[string]string `json:"storageClassMapping,omitempty"`
	// +optional
	// +kubebuilder:default=none
	ExistingResourcePolicy ExistingPolicy `json:"existingResourcePolicy,omitempty"`
	// RestoreStatus restores the status of objects whose status is not
	// owned by a controller that would rebuild it.
	// +optional
	RestoreStatus bool `json:"restoreStatus,omitempty"`
	// RestoreVolumes defaults to true.
	// +optional
	RestoreVolumes *bool `json:"restoreVolumes,omitempty"`
	// +optional
	Hooks []RestoreResourceHook `json:"hooks,omitempty"`
}

// RestorePhase is where a restore is in its life.
// +kubebuilder:validation:Enum="";New;InProgress;WaitingForVolumes;Completed;PartiallyFailed;Failed
type RestorePhase string

const (
	RestoreNew               RestorePhase = "New"
	RestoreInProgress        RestorePhase = "InProgress"
	RestoreWaitingForVolumes RestorePhase = "WaitingForVolumes"
	RestoreCompleted         RestorePhase = "Completed"
	RestorePartiallyFailed   RestorePhase = "PartiallyFailed"
	RestoreFailed            RestorePhase = "Failed"
)

// Done reports whether the phase is final.
func (p RestorePhase) Done() bool {
	return p == RestoreCompleted || p == RestorePartiallyFailed || p == RestoreFailed
}

// ItemResult is what happened to one object.
// +kubebuilder:validation:Enum=Created;Updated;Skipped;Failed
type ItemResult string

const (
	ItemCreated ItemResult = "Created"
	ItemUpdated ItemResult = "Updated"
	ItemSkipped ItemResult = "Skipped"
	ItemFailed  ItemResult = "Failed"
)

// RestoreItem is the outcome for one object.
type RestoreItem struct {
	// Resource is "resource.group" (core resources have no group).
	Resource string `json:"resource"`
	// +optional
	Namespace string     `json:"namespace,omitempty"`
	Name      string     `json:"name"`
	Result    ItemResult `json:"result"`
	// +optional
	Message string `json:"message,omitempty"`
}

// RestoreCounts sums the item results.
type RestoreCounts struct {
	// +optional
	Created int `json:"created,omitempty"`
	// +optional
	Updated int `json:"updated,omitempty"`
	// +optional
	Skipped int `json:"skipped,omitempty"`
	// +optional
	Failed int `json:"failed,omitempty"`
}

// MaxRestoreItems bounds status.items; the full list is in the log.
const MaxRestoreItems = 500

// RestoreStatus reports a restore's progress and per-item results.
type RestoreStatus struct {
	// +optional
	Phase RestorePhase `json:"phase,omitempty"`
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// +optional
	Counts RestoreCounts `json:"counts,omitempty"`
	// Items lists results, failures first, up to 500.
	// +optional
	Items []RestoreItem `json:"items,omitempty"`
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
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Restore brings a backup back into this cluster.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Backup",type=string,JSONPath=`.spec.backupName`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Created",type=integer,JSONPath=`.status.counts.created`
// +kubebuilder:printcolumn:name="Failed",type=integer,JSONPath=`.status.counts.failed`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Restore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RestoreSpec   `json:"spec"`
	Status RestoreStatus `json:"status,omitempty"`
}

// RestoreList is a list of Restores.
// +kubebuilder:object:root=true
type RestoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Restore `json:"items"`
}

func init() {
	register(&Restore{}, &RestoreList{})
}
