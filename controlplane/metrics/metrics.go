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
)

func init() {
	ctrlmetrics.Registry.MustRegister(backupTotal, restoreTotal, backupDuration,
		restoreDuration, backupBytes, backupItems, scheduleLastSuccess)
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

// ForgetSchedule drops a deleted schedule's series.
func ForgetSchedule(schedule string) {
	scheduleLastSuccess.DeleteLabelValues(schedule)
}
