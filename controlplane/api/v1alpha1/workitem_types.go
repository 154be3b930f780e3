package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WorkPhase is where a work item is in its life. Agents move it from
// Pending to InProgress (after accepting it, setting status.agent) and to
// Completed or Failed. Canceled is set by the controller.
// +kubebuilder:validation:Enum="";Pending;InProgress;Completed;Failed;Canceled
type WorkPhase string

const (
	WorkPending    WorkPhase = "Pending"
	WorkInProgress WorkPhase = "InProgress"
	WorkCompleted  WorkPhase = "Completed"
	WorkFailed     WorkPhase = "Failed"
	WorkCanceled   WorkPhase = "Canceled"
)

// Done reports whether the phase is final.
func (p WorkPhase) Done() bool {
	return p == WorkCompleted || p == WorkFailed || p == WorkCanceled
}

// VolumeMode of the volume.
// +kubebuilder:validation:Enum=Filesystem;Block
type VolumeMode string

// VolumeSource describes the volume a work item moves.
type VolumeSource struct {
	PVC ObjectRef `json:"pvc"`
	// +optional
	PVName string `json:"pvName,omitempty"`
	// +optional
	StorageClassName string `json:"storageClassName,omitempty"`
	// +optional
	CSIDriver string `json:"csiDriver,omitempty"`
	// +optional
	VolumeHandle string `json:"volumeHandle,omitempty"`
	// +optional
	VolumeMode VolumeMode `json:"volumeMode,omitempty"`
	// +optional
	Capacity *resource.Quantity `json:"capacity,omitempty"`
	// Pod mounting the volume, for the file-system data path.
	// +optional
	Pod *ObjectRef `json:"pod,omitempty"`
}

// VolumeBackupSpec is one volume to back up, on one node.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a work item's spec is immutable"
type VolumeBackupSpec struct {
	// NodeName is the node whose agent must execute this item.
	// +kubebuilder:validation:MinLength=1
	NodeName string `json:"nodeName"`
	// +kubebuilder:validation:MinLength=1
	BackupName string `json:"backupName"`
	// +kubebuilder:validation:MinLength=1
	LocationName string       `json:"locationName"`
	DataPath     DataPath     `json:"dataPath"`
	Volume       VolumeSource `json:"volume"`
	// ParentSnapshotID is the previous snapshot of this volume, for an
	// incremental backup.
	// +optional
	ParentSnapshotID string `json:"parentSnapshotID,omitempty"`
	// Tags are recorded on the repository snapshot.
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
}

// WorkStatus is the status shared by both work item kinds.
type WorkStatus struct {
	// +optional
	Phase WorkPhase `json:"phase,omitempty"`
	// Agent is the agent instance that owns the item.
	// +optional
	Agent string `json:"agent,omitempty"`
	// +optional
	Progress Progress `json:"progress,omitempty"`
	// SnapshotID is the repository snapshot written (backup) or read
	// (restore).
	// +optional
	SnapshotID string `json:"snapshotID,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// HeartbeatTime is renewed by the owning agent while it works (with
	// the progress, about every 5s). An InProgress item whose heartbeat is
	// stale is taken over by an agent of its node: its owner has died.
	// +optional
	HeartbeatTime *metav1.Time `json:"heartbeatTime,omitempty"`
	// CSISnapshotID is the driver's handle of the snapshot cut for this
	// item (backup). It is kept on the driver when changed-block
	// incrementals can use it as the next backup's base.
	// +optional
	CSISnapshotID string `json:"csiSnapshotID,omitempty"`
	// Stats describe the data moved, once known.
	// +optional
	Stats WorkStats `json:"stats,omitempty"`
	// Warnings are problems that did not fail the item, such as a fall
	// back from changed-block reads to a full read.
	// +optional
	Warnings []string `json:"warnings,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ReadMode says how a volume's bytes were read.
// +kubebuilder:validation:Enum="";files;full;allocated;changed-blocks
type ReadMode string

const (
	// ReadFiles walked a file system.
	ReadFiles ReadMode = "files"
	// ReadFull read every byte of a block volume.
	ReadFull ReadMode = "full"
	// ReadAllocated read only the ranges the driver reported allocated.
	ReadAllocated ReadMode = "allocated"
	// ReadChangedBlocks read only the ranges changed since the parent's
	// snapshot, reusing the parent's chunks for the rest.
	ReadChangedBlocks ReadMode = "changed-blocks"
)

// WorkStats are the figures of one item's data movement.
type WorkStats struct {
	// ReadMode is how the volume was read.
	// +optional
	ReadMode ReadMode `json:"readMode,omitempty"`
	// VolumeBytes is the size of the volume or of its files.
	// +optional
	VolumeBytes int64 `json:"volumeBytes,omitempty"`
	// BytesRead from the volume (backup) or written to it (restore).
	// +optional
	BytesRead int64 `json:"bytesRead,omitempty"`
	// BytesAdded is the new data after deduplication, before compression.
	// +optional
	BytesAdded int64 `json:"bytesAdded,omitempty"`
	// BytesStored is what the new data took in the repository.
	// +optional
	BytesStored int64 `json:"bytesStored,omitempty"`
	// Files backed up or restored (file-system volumes).
	// +optional
	Files int64 `json:"files,omitempty"`
	// DurationMilliseconds of the data movement, from the item's start
	// (the snapshot cut included) to its end.
	// +optional
	DurationMilliseconds int64 `json:"durationMilliseconds,omitempty"`
	// ReadMilliseconds is the part spent reading and storing (backup) or
	// fetching and writing (restore) the data, without the driver's work.
	// +optional
	ReadMilliseconds int64 `json:"readMilliseconds,omitempty"`
}

// VolumeBackup is a work item: back up one volume.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vb
// +kubebuilder:selectablefield:JSONPath=`.spec.nodeName`
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.spec.nodeName`
// +kubebuilder:printcolumn:name="PVC",type=string,JSONPath=`.spec.volume.pvc.name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Done",type=integer,JSONPath=`.status.progress.bytesDone`
// +kubebuilder:printcolumn:name="Total",type=integer,JSONPath=`.status.progress.bytesTotal`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type VolumeBackup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VolumeBackupSpec `json:"spec"`
	Status WorkStatus       `json:"status,omitempty"`
}

// VolumeBackupList is a list of VolumeBackups.
// +kubebuilder:object:root=true
type VolumeBackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VolumeBackup `json:"items"`
}

// VolumeRestoreSpec is one volume to restore, on one node. The agent
// creates the volume through the CSI driver, writes the snapshot's data,
// and binds a PV to the target PVC; workloads are restored only after.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a work item's spec is immutable"
type VolumeRestoreSpec struct {
	// +kubebuilder:validation:MinLength=1
	NodeName string `json:"nodeName"`
	// +kubebuilder:validation:MinLength=1
	RestoreName string `json:"restoreName"`
	// +kubebuilder:validation:MinLength=1
	LocationName string `json:"locationName"`
	// +kubebuilder:validation:MinLength=1
	SnapshotID string   `json:"snapshotID"`
	DataPath   DataPath `json:"dataPath"`
	// Target is the restored PVC (after namespace and class mapping).
	Target VolumeSource `json:"target"`
}

// VolumeRestore is a work item: restore one volume.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vr
// +kubebuilder:selectablefield:JSONPath=`.spec.nodeName`
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.spec.nodeName`
// +kubebuilder:printcolumn:name="PVC",type=string,JSONPath=`.spec.target.pvc.name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Done",type=integer,JSONPath=`.status.progress.bytesDone`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type VolumeRestore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VolumeRestoreSpec `json:"spec"`
	Status WorkStatus        `json:"status,omitempty"`
}

// VolumeRestoreList is a list of VolumeRestores.
// +kubebuilder:object:root=true
type VolumeRestoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VolumeRestore `json:"items"`
}

func init() {
	register(&VolumeBackup{}, &VolumeBackupList{}, &VolumeRestore{}, &VolumeRestoreList{})
}
