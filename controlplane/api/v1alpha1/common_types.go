package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DataPath says how a volume's data is protected.
// +kubebuilder:validation:Enum=snapshot-move;file-system;skip
type DataPath string

const (
	// DataPathSnapshotMove snapshots the volume through its CSI driver and
	// moves the snapshot's data into the repository.
	DataPathSnapshotMove DataPath = "snapshot-move"
	// DataPathFileSystem reads the live volume through the pod's mount.
	DataPathFileSystem DataPath = "file-system"
	// DataPathSkip leaves the volume's data out; its PVC is still saved.
	DataPathSkip DataPath = "skip"
)

// Progress of data movement.
type Progress struct {
	// +optional
	BytesDone int64 `json:"bytesDone,omitempty"`
	// +optional
	BytesTotal int64 `json:"bytesTotal,omitempty"`
	// +optional
	BytesPerSecond int64 `json:"bytesPerSecond,omitempty"`
}

// SecretKeyRef names one key of a Secret in the object's namespace.
type SecretKeyRef struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// ObjectRef names a namespaced object.
type ObjectRef struct {
	// +kubebuilder:validation:MinLength=1
	Namespace string `json:"namespace"`
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// OnError says what a failing hook does to its backup or restore.
// +kubebuilder:validation:Enum=Continue;Fail
type OnError string

const (
	OnErrorContinue OnError = "Continue"
	OnErrorFail     OnError = "Fail"
)

// ExecHook runs a command in a container of the pod.
type ExecHook struct {
	// Container defaults to the pod's first container.
	// +optional
	Container string `json:"container,omitempty"`
	// +kubebuilder:validation:MinItems=1
	Command []string `json:"command"`
	// Timeout defaults to 30s.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// OnError defaults to Fail for pre-hooks and Continue for post-hooks.
	// +optional
	OnError OnError `json:"onError,omitempty"`
}

// HTTPHook POSTs a JSON body to an endpoint of the pod (or a fixed URL) and
// expects a status code. Applications that quiesce through their own API
// use it.
type HTTPHook struct {
	// URL is the full endpoint; when empty, the request goes to the pod's IP
	// on Port and Path.
	// +optional
	URL string `json:"url,omitempty"`
	// +optional
	// +kubebuilder:validation:Enum=http;https
	Scheme string `json:"scheme,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`
	// +optional
	Path string `json:"path,omitempty"`
	// Body is sent as application/json; defaults to {}.
	// +optional
	Body string `json:"body,omitempty"`
	// ExpectStatus defaults to 200.
	// +optional
	ExpectStatus int32 `json:"expectStatus,omitempty"`
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// +optional
	OnError OnError `json:"onError,omitempty"`
}

// Hook is one exec or HTTP hook.
// +kubebuilder:validation:XValidation:rule="has(self.exec) != has(self.http)",message="a hook is exactly one of exec or http"
type Hook struct {
	// +optional
	Exec *ExecHook `json:"exec,omitempty"`
	// +optional
	HTTP *HTTPHook `json:"http,omitempty"`
}

// Condition types.
const (
	// ConditionReady is True when the object reached its goal.
	ConditionReady = "Ready"
	// ConditionValid is False when the spec cannot be acted on.
	ConditionValid = "Valid"
	// ConditionSnapshotTaken is set by agents on VolumeBackups.
	ConditionSnapshotTaken = "SnapshotTaken"
	// ConditionHooksRun reports the outcome of hooks.
	ConditionHooksRun = "HooksRun"
	// ConditionAvailable reports a location's reachability.
	ConditionAvailable = "Available"
)
