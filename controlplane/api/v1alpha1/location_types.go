package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AccessMode of a location.
// +kubebuilder:validation:Enum=ReadWrite;ReadOnly
type AccessMode string

const (
	AccessReadWrite AccessMode = "ReadWrite"
	AccessReadOnly  AccessMode = "ReadOnly"
)

// S3Options tune an s3:// location.
type S3Options struct {
	// Endpoint is http(s)://host:port; empty means AWS.
	// +optional
	// +kubebuilder:validation:Pattern=`^https?://[^/]+/?$`
	Endpoint string `json:"endpoint,omitempty"`
	// +optional
	Region string `json:"region,omitempty"`
	// PathStyle addressing, which most non-AWS S3 servers need.
	// +optional
	PathStyle bool `json:"pathStyle,omitempty"`
	// CABundle is a PEM bundle trusted for the endpoint's TLS certificate.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`
}

// BackupLocationSpec says where a repository lives and how to open it.
type BackupLocationSpec struct {
	// URL is s3://BUCKET/PREFIX, or file:///PATH (or /PATH) for tests and
	// single-node use.
	// +kubebuilder:validation:Pattern=`^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|file:///.+|/.+)$`
	URL string `json:"url"`
	// +optional
	S3 *S3Options `json:"s3,omitempty"`
	// CredentialsSecret names a Secret holding AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY and optionally AWS_SESSION_TOKEN.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
	// PasswordSecretRef holds this location's repository password: each
	// location has its own key.
	PasswordSecretRef SecretKeyRef `json:"passwordSecretRef"`
	// +optional
	// +kubebuilder:default=ReadWrite
	AccessMode AccessMode `json:"accessMode,omitempty"`
	// ValidationInterval is how often availability is checked; default 1m.
	// +optional
	ValidationInterval *metav1.Duration `json:"validationInterval,omitempty"`
	// MaintenanceSchedule is the cron expression on which prune runs; empty
	// means daily at 03:00. Read-only locations are never pruned.
	// +optional
	MaintenanceSchedule string `json:"maintenanceSchedule,omitempty"`
	// MaintenanceMaxMemory is the memory budget of maintenance (prune) on
	// this location, such as 512Mi. With it, prune reads the index from
	// an on-disk cache and sorts the referenced blobs on disk, so it runs
	// within the budget whatever the repository holds; without it the
	// whole index is loaded into memory. At least 64Mi.
	// +optional
	MaintenanceMaxMemory *resource.Quantity `json:"maintenanceMaxMemory,omitempty"`
	// Compression for new repositories: off, fastest, default or better.
	// +optional
	// +kubebuilder:validation:Enum=off;fastest;default;better
	Compression string `json:"compression,omitempty"`
}

// LocationPhase is Available or Unavailable.
type LocationPhase string

const (
	LocationAvailable   LocationPhase = "Available"
	LocationUnavailable LocationPhase = "Unavailable"
)

// BackupLocationStatus reports availability.
type BackupLocationStatus struct {
	// +optional
	Phase LocationPhase `json:"phase,omitempty"`
	// Message says why the location is unavailable and what to do.
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	RepositoryID string `json:"repositoryID,omitempty"`
	// +optional
	LastValidationTime *metav1.Time `json:"lastValidationTime,omitempty"`
	// +optional
	LastMaintenanceTime *metav1.Time `json:"lastMaintenanceTime,omitempty"`
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// BackupLocation is a repository that backups are written to.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=bl
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Access",type=string,JSONPath=`.spec.accessMode`
// +kubebuilder:printcolumn:name="Validated",type=date,JSONPath=`.status.lastValidationTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type BackupLocation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BackupLocationSpec   `json:"spec"`
	Status BackupLocationStatus `json:"status,omitempty"`
}

// BackupLocationList is a list of BackupLocations.
// +kubebuilder:object:root=true
type BackupLocationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BackupLocation `json:"items"`
}

func init() {
	register(&BackupLocation{}, &BackupLocationList{})
}
