package dashboard

import (
	"net/http"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// maintainedCondition is the location maintainer's condition type (see
// controlplane/location), read here without importing the controller.
const maintainedCondition = "Maintained"

// pageBackups bounds the backups a location or schedule page lists.
const pageBackups = 50

type locationView struct {
	Now        time.Time
	Row        locationRow
	Spec       v1alpha1.BackupLocationSpec
	Status     v1alpha1.BackupLocationStatus
	Available  *metav1.Condition
	Maintained *metav1.Condition
	Backups    []backupRow
	More       int
	Interval   time.Duration
}

// Compression is the level new repositories get.
func (v *locationView) Compression() string { return phaseOr(v.Spec.Compression, "default") }

// Maintenance is the prune schedule.
func (v *locationView) Maintenance() string { return phaseOr(v.Spec.MaintenanceSchedule, "0 3 * * *") }

func (s *Server) locationPage(r *http.Request) *page {
	ctx, now := r.Context(), s.cfg.Clock.Now()
	ns, name := r.PathValue("ns"), r.PathValue("name")
	var loc v1alpha1.BackupLocation
	if err := s.get(ctx, ns, name, &loc); err != nil {
		return missing(err, "BackupLocation", ns, name)
	}
	// Only the Secrets' names are in the spec; the dashboard never reads
	// a Secret, so no value can reach the page.
	v := &locationView{Now: now, Row: s.locationRow(&loc), Spec: loc.Spec, Status: loc.Status,
		Available:  meta.FindStatusCondition(loc.Status.Conditions, v1alpha1.ConditionAvailable),
		Maintained: meta.FindStatusCondition(loc.Status.Conditions, maintainedCondition), Interval: s.cfg.StatsInterval}
	var bs v1alpha1.BackupList
	if err := s.list(ctx, &bs, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelLocation: name}); err == nil {
		v.Backups, v.More = newestRows(now, bs.Items, pageBackups)
	}
	return &page{Title: "Location " + name, Template: "location", Data: v, Live: true}
}

// newestRows lists up to n backups, newest first, and how many it left out.
func newestRows(now time.Time, bs []v1alpha1.Backup, n int) ([]backupRow, int) {
	slices.SortFunc(bs, func(a, b v1alpha1.Backup) int {
		if d := startTime(&b).Compare(startTime(&a)); d != 0 {
			return d
		}
		return compareStrings(a.Name, b.Name) // a stable order: streams send only changes
	})
	var out []backupRow
	for i := range bs[:min(n, len(bs))] {
		out = append(out, backupRowOf(now, &bs[i]))
	}
	return out, len(bs) - len(out)
}

// startTime places a backup in time: its start, else its creation.
func startTime(b *v1alpha1.Backup) time.Time {
	if t := b.Status.StartTime; t != nil {
		return t.Time
	}
	return b.CreationTimestamp.Time
}
