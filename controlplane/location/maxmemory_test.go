package location_test

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/cairnbackup/cairn/controlplane/location"
)

// With spec.maintenanceMaxMemory, maintenance prunes through the on-disk
// index cache in the controller's cache directory.
func TestMaintenanceWithinMaxMemory(t *testing.T) {
	loc := availableLocation(t, "@hourly")
	q := resource.MustParse("128Mi")
	loc.Spec.MaintenanceMaxMemory = &q
	h := newHarness(t, "2026-11-26T10:00:30Z", loc, pwSecret(password))
	h.cfg.IndexCacheDir = t.TempDir()
	pruneForgotten(t, h, loc)
	if m, _ := filepath.Glob(filepath.Join(h.cfg.IndexCacheDir, "*", "manifest.json")); len(m) != 1 {
		t.Fatalf("maintenance built no index cache: %v", m)
	}
}

func TestMaintenanceRefusesTinyMaxMemory(t *testing.T) {
	loc := availableLocation(t, "@hourly")
	q := resource.MustParse("1Mi")
	loc.Spec.MaintenanceMaxMemory = &q
	h := newHarness(t, "2026-11-26T10:00:30Z", loc, pwSecret(password))
	reconcileOK(t, location.NewMaintainer(h.cfg), "default")
	c := meta.FindStatusCondition(h.location("default").Status.Conditions, location.ConditionMaintained)
	if c == nil || c.Reason != "InvalidMaxMemory" || !strings.Contains(c.Message, "spec.maintenanceMaxMemory 1Mi is below the 64Mi") {
		t.Fatalf("condition %+v", c)
	}
	if ev := h.events(); len(ev) != 1 || !strings.Contains(ev[0], "InvalidMaxMemory") {
		t.Fatalf("events %q", ev)
	}
}
