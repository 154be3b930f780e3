package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/metrics"
)

func TestBackupAndRestoreFinished(t *testing.T) {
	metrics.BackupFinished(v1alpha1.BackupCompleted, 90*time.Second, 4096, 12)
	metrics.BackupFinished(v1alpha1.BackupFailed, time.Second, 0, 0)
	metrics.RestoreFinished(v1alpha1.RestoreCompleted, 3*time.Second)
	want := `
# HELP cairn_backup_total Backups that reached a final phase, by result (the phase).
# TYPE cairn_backup_total counter
cairn_backup_total{result="Completed"} 1
cairn_backup_total{result="Failed"} 1
cairn_backup_total{result="PartiallyFailed"} 0
# HELP cairn_backup_bytes_total Volume bytes read by finished backups.
# TYPE cairn_backup_bytes_total counter
cairn_backup_bytes_total 4096
# HELP cairn_backup_items_total API objects saved by finished backups.
# TYPE cairn_backup_items_total counter
cairn_backup_items_total 12
# HELP cairn_restore_total Restores that reached a final phase, by result (the phase).
# TYPE cairn_restore_total counter
cairn_restore_total{result="Completed"} 1
cairn_restore_total{result="Failed"} 0
cairn_restore_total{result="PartiallyFailed"} 0
`
	err := testutil.GatherAndCompare(ctrlmetrics.Registry, strings.NewReader(want),
		"cairn_backup_total", "cairn_backup_bytes_total", "cairn_backup_items_total", "cairn_restore_total")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(ctrlmetrics.Registry, "cairn_backup_duration_seconds", "cairn_restore_duration_seconds"); err != nil || n != 2 {
		t.Fatalf("duration histograms: %d series, %v", n, err)
	}
}

func TestScheduleSucceededAndForget(t *testing.T) {
	metrics.ScheduleSucceeded("nightly", time.Unix(1700000000, 500_000_000))
	want := `
# HELP cairn_schedule_last_success_timestamp_seconds Completion time of the newest Completed backup of each schedule, in Unix seconds.
# TYPE cairn_schedule_last_success_timestamp_seconds gauge
cairn_schedule_last_success_timestamp_seconds{schedule="nightly"} 1.7000000005e+09
`
	if err := testutil.GatherAndCompare(ctrlmetrics.Registry, strings.NewReader(want), "cairn_schedule_last_success_timestamp_seconds"); err != nil {
		t.Fatal(err)
	}
	metrics.ForgetSchedule("nightly")
	if n, _ := testutil.GatherAndCount(ctrlmetrics.Registry, "cairn_schedule_last_success_timestamp_seconds"); n != 0 {
		t.Fatalf("series left after ForgetSchedule: %d", n)
	}
}

func TestScheduleRunningIdleAndForget(t *testing.T) {
	metrics.ScheduleRunning("hourly", time.Hour, time.Unix(1700000000, 0))
	want := `
# HELP cairn_schedule_created_timestamp_seconds Creation time of each running (valid, not paused) schedule, in Unix seconds.
# TYPE cairn_schedule_created_timestamp_seconds gauge
cairn_schedule_created_timestamp_seconds{schedule="hourly"} 1.7e+09
# HELP cairn_schedule_interval_seconds Gap between the slots around now of each running (valid, not paused) schedule.
# TYPE cairn_schedule_interval_seconds gauge
cairn_schedule_interval_seconds{schedule="hourly"} 3600
`
	names := []string{"cairn_schedule_interval_seconds", "cairn_schedule_created_timestamp_seconds"}
	if err := testutil.GatherAndCompare(ctrlmetrics.Registry, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	metrics.ScheduleIdle("hourly")
	if n, _ := testutil.GatherAndCount(ctrlmetrics.Registry, names...); n != 0 {
		t.Fatalf("series left after ScheduleIdle: %d", n)
	}
	metrics.ScheduleRunning("hourly", time.Hour, time.Unix(1700000000, 0))
	metrics.ScheduleSucceeded("hourly", time.Unix(1700000000, 0))
	metrics.ForgetSchedule("hourly")
	if n, _ := testutil.GatherAndCount(ctrlmetrics.Registry, append(names, "cairn_schedule_last_success_timestamp_seconds")...); n != 0 {
		t.Fatalf("series left after ForgetSchedule: %d", n)
	}
}

func TestLocationValidatedAndForget(t *testing.T) {
	metrics.LocationValidated("default", true)
	metrics.LocationValidated("offsite", false)
	want := `
# HELP cairn_location_available 1 when the last validation of a backup location reached its repository, else 0.
# TYPE cairn_location_available gauge
cairn_location_available{location="default"} 1
cairn_location_available{location="offsite"} 0
`
	if err := testutil.GatherAndCompare(ctrlmetrics.Registry, strings.NewReader(want), "cairn_location_available"); err != nil {
		t.Fatal(err)
	}
	metrics.ForgetLocation("default")
	metrics.ForgetLocation("offsite")
	if n, _ := testutil.GatherAndCount(ctrlmetrics.Registry, "cairn_location_available"); n != 0 {
		t.Fatalf("series left after ForgetLocation: %d", n)
	}
}
