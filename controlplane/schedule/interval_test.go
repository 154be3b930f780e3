package schedule

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/schedule/cronspec"
)

// The interval the alert compares with is the longest current gap, so a
// weekday schedule is not stale over the weekend.
func TestIntervalTakesTheLongestCurrentGap(t *testing.T) {
	utc := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) } // 2026-11-06 is a Friday
	weekdays, err := cronspec.Parse("0 3 * * 1-5")
	if err != nil {
		t.Fatal(err)
	}
	hourly, _ := cronspec.Parse("@hourly")
	for _, c := range []struct {
		name string
		spec cronspec.Spec
		last *metav1.Time
		next time.Time
		want time.Duration
	}{
		{"hourly, no slot yet", hourly, nil, utc(6, 4), time.Hour},
		{"weekdays, Friday's slot made", weekdays, &metav1.Time{Time: utc(6, 3)}, utc(9, 3), 72 * time.Hour},
		{"weekdays, Thursday's slot made", weekdays, &metav1.Time{Time: utc(5, 3)}, utc(6, 3), 72 * time.Hour},
		{"weekdays, Monday's slot made", weekdays, &metav1.Time{Time: utc(9, 3)}, utc(10, 3), 24 * time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := interval(c.spec, c.last, c.next); got != c.want {
				t.Fatalf("interval = %s, want %s", got, c.want)
			}
		})
	}
}
