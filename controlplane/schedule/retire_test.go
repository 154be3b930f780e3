package schedule_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/schedule"
)

func scheduledBackup(s, slot string, phase v1alpha1.BackupPhase) *v1alpha1.Backup {
	t := at(slot)
	done := metav1.NewTime(t.Add(10 * time.Minute))
	return &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: schedule.BackupName(s, t), Namespace: ns,
			Labels:      map[string]string{v1alpha1.LabelSchedule: s},
			Annotations: map[string]string{schedule.AnnotationScheduledFor: slot}},
		Status: v1alpha1.BackupStatus{Phase: phase, CompletionTime: &done},
	}
}

func TestRetentionDeletesUnkeptCompletedBackups(t *testing.T) {
	s := newSchedule("daily", "0 3 * * *", "2026-11-01T00:00:00Z")
	s.Spec.Retention = v1alpha1.Retention{KeepLast: 2}
	h := newHarness(t, "2026-11-26T12:00:00Z", nil, s,
		scheduledBackup("daily", "2026-11-23T03:00:00Z", v1alpha1.BackupCompleted),
		scheduledBackup("daily", "2026-11-24T03:00:00Z", v1alpha1.BackupFailed),
		scheduledBackup("daily", "2026-11-25T03:00:00Z", v1alpha1.BackupCompleted),
		scheduledBackup("daily", "2026-11-26T03:00:00Z", v1alpha1.BackupCompleted),
		&v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "manual", Namespace: ns}},
	)
	h.reconcile("daily")
	var names []string
	for n := range h.backups() {
		names = append(names, n)
	}
	slices.Sort(names)
	got := strings.Join(names, " ")
	want := "daily-20261124030000 daily-20261125030000 daily-20261126030000 manual"
	if got != want {
		t.Fatalf("Backups left: %s\nwant %s", got, want)
	}
	if ev := strings.Join(h.events(), "\n"); !strings.Contains(ev, "Normal BackupRetired deleted Backup daily-20261123030000") {
		t.Fatalf("events: %s", ev)
	}
	st := h.schedule("daily").Status
	if st.LastSuccessfulBackupTime == nil || !st.LastSuccessfulBackupTime.Time.Equal(at("2026-11-26T03:10:00Z")) {
		t.Fatalf("LastSuccessfulBackupTime = %v", st.LastSuccessfulBackupTime)
	}
	if v := lastSuccessGauge(t, "daily"); v != float64(at("2026-11-26T03:10:00Z").Unix()) {
		t.Fatalf("cairn_schedule_last_success_timestamp_seconds{schedule=daily} = %v", v)
	}
}

// lastSuccessGauge reads one schedule's series from the registry that the
// manager serves (other tests in this binary add their own series).
func lastSuccessGauge(t *testing.T, schedule string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "cairn_schedule_last_success_timestamp_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "schedule" && l.GetValue() == schedule {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no last-success series for schedule %s", schedule)
	return 0
}

func TestRetentionAllZeroKeepsEverything(t *testing.T) {
	h := newHarness(t, "2026-11-26T12:00:00Z", nil, newSchedule("daily", "0 3 * * *", "2026-11-01T00:00:00Z"),
		scheduledBackup("daily", "2026-11-25T03:00:00Z", v1alpha1.BackupCompleted),
		scheduledBackup("daily", "2026-11-26T03:00:00Z", v1alpha1.BackupCompleted))
	h.reconcile("daily")
	if n := len(h.backups()); n != 2 {
		t.Fatalf("%d Backups left, want 2", n)
	}
}
