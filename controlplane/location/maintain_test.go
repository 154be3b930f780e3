package location_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/pruner"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/location"
)

// availableLocation is a ReadWrite location over a fresh repository,
// marked Available as the Validator would.
func availableLocation(t *testing.T, schedule string) *v1alpha1.BackupLocation {
	dir := filepath.Join(t.TempDir(), "repo")
	initRepo(t, dir, password)
	loc := fileLocation("default", dir)
	loc.Spec.MaintenanceSchedule = schedule
	loc.Status.Phase = v1alpha1.LocationAvailable
	return loc
}

func TestMaintenancePrunesOncePerSlot(t *testing.T) {
	loc := availableLocation(t, "")
	last := metav1.NewTime(at("2026-11-25T03:00:05Z"))
	loc.Status.LastMaintenanceTime = &last
	h := newHarness(t, "2026-11-26T02:59:00Z", loc, pwSecret(password))
	m := location.NewMaintainer(h.cfg)
	res := reconcileOK(t, m, "default")
	if !h.location("default").Status.LastMaintenanceTime.Equal(&last) || res.RequeueAfter != time.Minute {
		t.Fatalf("pruned before the 03:00 slot, or requeue %v", res.RequeueAfter)
	}
	h.clock.Add(2 * time.Minute)
	reconcileOK(t, m, "default")
	got := h.location("default")
	c := meta.FindStatusCondition(got.Status.Conditions, location.ConditionMaintained)
	if got.Status.LastMaintenanceTime == nil || c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("after the slot: status %+v", got.Status)
	}
	if ev := h.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Normal PruneSucceeded pruned in") {
		t.Fatalf("events %q", ev)
	}
	h.clock.Add(time.Hour)
	reconcileOK(t, m, "default")
	if ev := h.events(); len(ev) != 0 {
		t.Fatalf("pruned twice in one slot: %q", ev)
	}
}

func TestMaintenanceFailureWaitsForNextSlot(t *testing.T) {
	loc := availableLocation(t, "@hourly")
	h := newHarness(t, "2026-11-26T10:00:30Z", loc, pwSecret(password))
	m := location.NewMaintainer(h.cfg)
	if _, err := h.cfg.Opener.Open(context.Background(), loc); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(strings.TrimPrefix(loc.Spec.URL, "file://")); err != nil {
		t.Fatal(err)
	}
	reconcileOK(t, m, "default")
	c := meta.FindStatusCondition(h.location("default").Status.Conditions, location.ConditionMaintained)
	if c == nil || c.Reason != "PruneFailed" || !strings.Contains(c.Message, "tried again at the next maintenance slot") {
		t.Fatalf("condition %+v", c)
	}
	h.clock.Add(time.Minute)
	reconcileOK(t, m, "default")
	if ev := h.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning PruneFailed") {
		t.Fatalf("events %q (want one failure, no retry within the slot)", ev)
	}
}

func TestMaintenanceSkips(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*v1alpha1.BackupLocation)
		event  string
	}{
		{"read-only", func(l *v1alpha1.BackupLocation) { l.Spec.AccessMode = v1alpha1.AccessReadOnly }, ""},
		{"unavailable", func(l *v1alpha1.BackupLocation) { l.Status.Phase = v1alpha1.LocationUnavailable }, ""},
		{"invalid schedule", func(l *v1alpha1.BackupLocation) { l.Spec.MaintenanceSchedule = "0 3 * *" }, "Warning InvalidSchedule"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loc := availableLocation(t, "")
			tc.mutate(loc)
			h := newHarness(t, "2026-11-26T03:00:30Z", loc, pwSecret(password))
			reconcileOK(t, location.NewMaintainer(h.cfg), "default")
			if h.location("default").Status.LastMaintenanceTime != nil {
				t.Fatal("pruned")
			}
			ev := strings.Join(h.events(), "\n")
			if (tc.event == "") != (ev == "") || !strings.Contains(ev, tc.event) {
				t.Fatalf("events %q, want %q", ev, tc.event)
			}
		})
	}
}

// Maintenance really prunes: data only a forgotten snapshot used is gone.
func TestMaintenanceRemovesForgottenData(t *testing.T) {
	loc := availableLocation(t, "@hourly")
	h := newHarness(t, "2026-11-26T10:00:30Z", loc, pwSecret(password))
	t.Log(pruneForgotten(t, h, loc))
}

// pruneForgotten backs up a file to loc, forgets the snapshot, runs
// maintenance and checks that it pruned packs; it returns the event.
func pruneForgotten(t *testing.T, h *harness, loc *v1alpha1.BackupLocation) string {
	t.Helper()
	h.cfg.Prune = pruner.Options{Grace: time.Nanosecond}
	ctx := context.Background()
	r, err := h.cfg.Opener.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "data"), bytes.Repeat([]byte("cairn "), 200_000), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := archiver.Backup(ctx, r, []string{src}, archiver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteFile(ctx, repo.KindSnapshot, snap.ID); err != nil {
		t.Fatal(err)
	}
	reconcileOK(t, location.NewMaintainer(h.cfg), "default")
	ev := h.events()
	if len(ev) != 1 || !strings.Contains(ev[0], "PruneSucceeded") || strings.Contains(ev[0], " 0 packs deleted") {
		t.Fatalf("events %q, want a prune that deleted packs", ev)
	}
	return ev[0]
}
