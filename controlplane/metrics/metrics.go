package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// durationBuckets span a small namespace's backup (seconds) to a large
// volume's first full copy (hours); doubling keeps relative error even.
var durationBuckets = []float64{1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 57600}

var (
	backupTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cairn_backup_total",
		Help: "Backups that reached a final phase, by result (the phase).",
	}, []string{"result"})
	restoreTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cairn_restore_total",
		Help: "Restores that reached a final phase, by result (the phase).",
	}, []string{"result"})
	backupDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cairn_backup_duration_seconds",
		Help:    "Time from a backup's start to its final phase.",
		Buckets: durationBuckets,
	})
	restoreDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cairn_restore_duration_seconds",
		Help:    "Time from a restore's start to its final phase.",
		Buckets: durationBuckets,
	})
	backupBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cairn_backup_bytes_total",
		Help: "Volume bytes read by finished backups.",
	})
	backupItems = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cairn_backup_items_total",
		Help: "API objects saved by finished backups.",
	})
	scheduleLastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cairn_schedule_last_success_timestamp_seconds",
		Help: "Completion time of the newest Completed backup of each schedule, in Unix seconds.",
	}, []string{"schedule"})
	scheduleInterval = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cairn_schedule_interval_seconds",
		Help: "Gap between the slots around now of each running (valid, not paused) schedule.",
	}, []string{"schedule"})
	scheduleCreated = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cairn_schedule_created_timestamp_seconds",
		Help: "Creation time of each running (valid, not paused) schedule, in Unix seconds.",
	}, []string{"schedule"})
	locationAvailable = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cairn_location_available",
		Help: "1 when the last validation of a backup location reached its repository, else 0.",
	}, []string{"location"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(backupTotal, restoreTotal, backupDuration,
		restoreDuration, backupBytes, backupItems, scheduleLastSuccess, scheduleInterval,
		scheduleCreated, locationAvailable)
	// Final phases start at zero, so the first PartiallyFailed backup is an
	// increase() an alert sees, not the birth of a series it cannot compare.
	for _, p := range []v1alpha1.BackupPhase{v1alpha1.BackupCompleted, v1alpha1.BackupPartiallyFailed, v1alpha1.BackupFailed} {
		backupTotal.WithLabelValues(string(p))
	}
	for _, p := range []v1alpha1.RestorePhase{v1alpha1.RestoreCompleted, v1alpha1.RestorePartiallyFailed, v1alpha1.RestoreFailed} {
		restoreTotal.WithLabelValues(string(p))
	}
}

// BackupFinished records a backup that reached a final phase. Call it once
// per backup, on the transition into the final phase.
func BackupFinished(phase v1alpha1.BackupPhase, d time.Duration, bytes, items int64) {
	backupTotal.WithLabelValues(string(phase)).Inc()
	backupDuration.Observe(d.Seconds())
	if bytes > 0 {
		backupBytes.Add(float64(bytes))
	}
	if items > 0 {
		backupItems.Add(float64(items))
	}
}

// RestoreFinished records a restore that reached a final phase. Call it
// once per restore, on the transition into the final phase.
func RestoreFinished(phase v1alpha1.RestorePhase, d time.Duration) {
	restoreTotal.WithLabelValues(string(phase)).Inc()
	restoreDuration.Observe(d.Seconds())
}

// ScheduleSucceeded sets the last-success time of a schedule. The zero time
// clears the series: the schedule has no successful backup.
func ScheduleSucceeded(schedule string, t time.Time) {
	if t.IsZero() {
		scheduleLastSuccess.DeleteLabelValues(schedule)
		return
	}
	scheduleLastSuccess.WithLabelValues(schedule).Set(float64(t.UnixNano()) / 1e9)
}

// ScheduleRunning records a schedule that makes backups: its nominal
// interval and creation time, from which an alert tells a schedule that
// has not succeeded for twice its interval.
func ScheduleRunning(schedule string, interval time.Duration, created time.Time) {
	scheduleInterval.WithLabelValues(schedule).Set(interval.Seconds())
	scheduleCreated.WithLabelValues(schedule).Set(float64(created.UnixNano()) / 1e9)
}

// ScheduleIdle drops the interval of a paused or invalid schedule, which
// is expected to make no backups and so must not alert.
func ScheduleIdle(schedule string) {
	scheduleInterval.DeleteLabelValues(schedule)
	scheduleCreated.DeleteLabelValues(schedule)
}

// ForgetSchedule drops a deleted schedule's series.
func ForgetSchedule(schedule string) {
	scheduleLastSuccess.DeleteLabelValues(schedule)
	ScheduleIdle(schedule)
}

// LocationValidated records the outcome of a location's validation.
func LocationValidated(location string, available bool) {
	v := 0.0
	if available {
		v = 1
	}
	locationAvailable.WithLabelValues(location).Set(v)
}

// ForgetLocation drops a deleted location's series.
func ForgetLocation(location string) {
	locationAvailable.DeleteLabelValues(location)
}
