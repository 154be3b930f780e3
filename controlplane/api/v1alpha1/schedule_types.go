package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Retention keeps the newest KeepLast backups plus the newest backup of each
// of the last N hours, days, weeks, months and years (grandfather-father-
// son). A backup kept by any rule is kept. All zero means keep everything
// until its TTL.
type Retention struct {
	// +optional
	// +kubebuilder:validation:Minimum=0
	KeepLast int32 `json:"keepLast,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	Hourly int32 `json:"hourly,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	Daily int32 `json:"daily,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	Weekly int32 `json:"weekly,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	Monthly int32 `json:"monthly,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	Yearly int32 `json:"yearly,omitempty"`
}

// ScheduleSpec creates Backups from a template on a cron schedule.
type ScheduleSpec struct {
	// Schedule is a standard five-field cron expression, or a descriptor
	// such as @daily.
	// +kubebuilder:validation:MinLength=1
	Schedule string `json:"schedule"`
	// +optional
	Paused   bool       `json:"paused,omitempty"`
	Template BackupSpec `json:"template"`
	// +optional
	Retention Retention `json:"retention,omitempty"`
}

// ScheduleStatus reports the schedule's state.
type ScheduleStatus struct {
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`
	// +optional
	LastBackupName string `json:"lastBackupName,omitempty"`
	// +optional
	LastSuccessfulBackupTime *metav1.Time `json:"lastSuccessfulBackupTime,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Schedule makes Backups periodically and retires old ones.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Paused",type=boolean,JSONPath=`.spec.paused`
// +kubebuilder:printcolumn:name="Last",type=date,JSONPath=`.status.lastScheduleTime`
// +kubebuilder:printcolumn:name="Next",type=date,JSONPath=`.status.nextScheduleTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Schedule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ScheduleSpec   `json:"spec"`
	Status ScheduleStatus `json:"status,omitempty"`
}

// ScheduleList is a list of Schedules.
// +kubebuilder:object:root=true
type ScheduleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Schedule `json:"items"`
}

func init() {
	register(&Schedule{}, &ScheduleList{})
}
