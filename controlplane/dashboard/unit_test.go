package dashboard

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

func TestListenAddress(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "8090": "127.0.0.1:8090", ":8090": "127.0.0.1:8090",
		"0.0.0.0:8090": "0.0.0.0:8090", "[::1]:8090": "[::1]:8090", "localhost:0": "localhost:0",
	} {
		if got := ListenAddress(in); got != want {
			t.Errorf("ListenAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDurText(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "–"}, {300 * time.Millisecond, "<1s"}, {31*time.Second + 400*time.Millisecond, "31s"},
		{9*time.Minute + 59*time.Second, "9m59s"}, {95 * time.Minute, "1h35m"}, {26 * time.Hour, "26h"}, {80 * time.Hour, "3d"},
	} {
		if got := durText(c.d); got != c.want {
			t.Errorf("durText(%s) = %q, want %q", c.d, got, c.want)
		}
	}
}

// The ETA is what is left at the current rate; a finished or stalled
// volume has none, and the total sums only the rates of running volumes.
func TestProgressAndETA(t *testing.T) {
	now := time.Now()
	running := workRow(now, "n", v1alpha1.ObjectRef{Namespace: "a", Name: "b"}, v1alpha1.DataPathSnapshotMove,
		&v1alpha1.WorkStatus{Phase: v1alpha1.WorkInProgress, Progress: v1alpha1.Progress{BytesDone: 100, BytesTotal: 1100, BytesPerSecond: 100}})
	if running.ETA != 10*time.Second || running.Percent() != 9 {
		t.Errorf("running: ETA %s, %d%%", running.ETA, running.Percent())
	}
	stalled := workRow(now, "n", v1alpha1.ObjectRef{}, "", &v1alpha1.WorkStatus{Phase: v1alpha1.WorkInProgress,
		Progress: v1alpha1.Progress{BytesDone: 1, BytesTotal: 2}})
	done := workRow(now, "n", v1alpha1.ObjectRef{}, "", &v1alpha1.WorkStatus{Phase: v1alpha1.WorkCompleted,
		Progress: v1alpha1.Progress{BytesDone: 2, BytesTotal: 2, BytesPerSecond: 50}, Stats: v1alpha1.WorkStats{BytesRead: 200, BytesAdded: 50}})
	if stalled.ETA >= 0 || done.ETA >= 0 || !done.HasStats || done.Dedup != 0.75 {
		t.Errorf("stalled ETA %s, done ETA %s, dedup %v", stalled.ETA, done.ETA, done.Dedup)
	}
	sum := total([]volumeRow{running, stalled, done})
	if sum.Progress.BytesPerSecond != 100 || sum.Progress.BytesTotal != 1104 || sum.ETA <= 0 {
		t.Errorf("total: %+v", sum)
	}
}

// Points are placed by time and value inside the plot; one backup sits
// in the middle.
func TestChartGeometry(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	pts := []sample{{name: "a", at: t0, bytes: 0}, {name: "b", at: t0.Add(24 * time.Hour), bytes: 1 << 30}}
	bytes := func(s sample) float64 { return float64(s.bytes) }
	c := newChart("size", pts, bytes, sizeOf)
	if len(c.Points) != 2 || c.Points[0].X != padLeft || c.Points[1].X != chartW-padRight || c.Points[0].Y != padTop+plotH {
		t.Fatalf("points %+v", c.Points)
	}
	if !strings.HasPrefix(c.YTop, "1.1 GiB") || c.XFirst != "Nov 1 03:00" || !strings.Contains(c.Points[1].Label, "b: 1.0 GiB") {
		t.Errorf("labels: top %q, first %q, point %q", c.YTop, c.XFirst, c.Points[1].Label)
	}
	one := newChart("size", pts[1:], bytes, sizeOf)
	if one.Points[0].X != padLeft+plotW/2.0 {
		t.Errorf("a single point at x=%v", one.Points[0].X)
	}
	if empty := newChart("size", nil, bytes, sizeOf); len(empty.Points) != 0 {
		t.Error("an empty chart has points")
	}
}

func sizeOf(f float64) string { return sizeText(int64(f)) }

// A schedule is stale past twice its interval since its last success
// (or its creation), as the alert says.
func TestStale(t *testing.T) {
	now := time.Date(2026, 11, 6, 12, 0, 0, 0, time.UTC)
	mk := func(cron string, created, last time.Duration) *v1alpha1.Schedule {
		s := &v1alpha1.Schedule{Spec: v1alpha1.ScheduleSpec{Schedule: cron}}
		s.CreationTimestamp = metav1.NewTime(now.Add(-created))
		if last > 0 {
			t := metav1.NewTime(now.Add(-last))
			s.Status.LastSuccessfulBackupTime = &t
		}
		return s
	}
	for _, c := range []struct {
		name string
		s    *v1alpha1.Schedule
		want bool
	}{
		{"hourly, success 30m ago", mk("@hourly", 48*time.Hour, 30*time.Minute), false},
		{"hourly, success 3h ago", mk("@hourly", 48*time.Hour, 3*time.Hour), true},
		{"daily, new, never run", mk("@daily", time.Hour, 0), false},
		{"daily, never succeeded in 3 days", mk("@daily", 72*time.Hour, 0), true},
		{"invalid cron", mk("nope", 72*time.Hour, 0), false},
	} {
		if got := stale(now, c.s); got != c.want {
			t.Errorf("%s: stale = %v", c.name, got)
		}
	}
}
