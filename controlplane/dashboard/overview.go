package dashboard

import (
	"context"
	"net/http"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/schedule/cronspec"
)

// failureWindow is how far back the overview lists failures.
const failureWindow = 24 * time.Hour

// recentBackups is how many finished backups the overview lists.
const recentBackups = 10

type overview struct {
	Now       time.Time
	Locations []locationRow
	Schedules []scheduleRow
	Running   []runRow
	Failures  []failureRow
	Recent    []backupRow
}

type locationRow struct {
	NS, Name, URL, Phase, Message, Access string
	Validated                             *metav1.Time
	Figures                               figures
	HasFigures                            bool
}

type scheduleRow struct {
	NS, Name, Cron, Problem string
	Paused, Stale           bool
	LastSuccess, Next       *metav1.Time
	LastBackup              string
}

type runRow struct {
	Kind, NS, Name, Phase string
	Started               *metav1.Time
	Elapsed               time.Duration
	Total                 volumeRow
	Volumes               []volumeRow
	VolumesDone           int
}

type failureRow struct {
	Kind, NS, Name, Phase, Reason string
	When                          *metav1.Time
}

type backupRow struct {
	NS, Name, Phase, Location, Schedule string
	Started, Completed                  *metav1.Time
	Duration                            time.Duration
	Bytes                               int64
	Items                               int
}

func (s *Server) overviewPage(r *http.Request) *page {
	ctx, now := r.Context(), s.cfg.Clock.Now()
	var (
		locs   v1alpha1.BackupLocationList
		scheds v1alpha1.ScheduleList
		bs     v1alpha1.BackupList
		rs     v1alpha1.RestoreList
	)
	for _, l := range []client.ObjectList{&locs, &scheds, &bs, &rs} {
		if err := s.list(ctx, l); err != nil {
			return errorPage(http.StatusServiceUnavailable, "read the cache: %v", err)
		}
	}
	// The cache lists in no fixed order; streams send only what changed.
	slices.SortFunc(locs.Items, func(a, b v1alpha1.BackupLocation) int { return compareStrings(a.Name, b.Name) })
	slices.SortFunc(scheds.Items, func(a, b v1alpha1.Schedule) int { return compareStrings(a.Name, b.Name) })
	slices.SortFunc(bs.Items, func(a, b v1alpha1.Backup) int { return compareStrings(a.Name, b.Name) })
	slices.SortFunc(rs.Items, func(a, b v1alpha1.Restore) int { return compareStrings(a.Name, b.Name) })
	o := &overview{Now: now}
	for i := range locs.Items {
		o.Locations = append(o.Locations, s.locationRow(&locs.Items[i]))
	}
	for i := range scheds.Items {
		o.Schedules = append(o.Schedules, scheduleRowOf(now, &scheds.Items[i]))
	}
	o.Running = append(s.runningBackups(ctx, now, bs.Items), s.runningRestores(ctx, now, rs.Items)...)
	o.Failures = failures(now, bs.Items, rs.Items)
	o.Recent = recent(now, bs.Items, recentBackups)
	return &page{Title: "Overview", Template: "overview", Data: o, Live: true}
}

func (s *Server) locationRow(l *v1alpha1.BackupLocation) locationRow {
	row := locationRow{NS: l.Namespace, Name: l.Name, URL: l.Spec.URL, Phase: string(l.Status.Phase),
		Message: l.Status.Message, Access: string(l.Spec.AccessMode), Validated: l.Status.LastValidationTime}
	if row.Access == "" {
		row.Access = string(v1alpha1.AccessReadWrite)
	}
	row.Figures, row.HasFigures = s.figures.get(l)
	return row
}

func scheduleRowOf(now time.Time, sc *v1alpha1.Schedule) scheduleRow {
	row := scheduleRow{NS: sc.Namespace, Name: sc.Name, Cron: sc.Spec.Schedule, Paused: sc.Spec.Paused,
		LastSuccess: sc.Status.LastSuccessfulBackupTime, Next: sc.Status.NextScheduleTime, LastBackup: sc.Status.LastBackupName}
	if c := meta.FindStatusCondition(sc.Status.Conditions, v1alpha1.ConditionValid); c != nil && c.Status == metav1.ConditionFalse {
		row.Problem = c.Message
	}
	row.Stale = !row.Paused && row.Problem == "" && stale(now, sc)
	return row
}

// stale tells a schedule with no success in twice its interval, as the
// CairnScheduleNoRecentSuccess alert does.
func stale(now time.Time, sc *v1alpha1.Schedule) bool {
	spec, err := cronspec.Parse(sc.Spec.Schedule)
	if err != nil {
		return false
	}
	next := spec.Next(now)
	gap := spec.Next(next).Sub(next)
	if last := sc.Status.LastScheduleTime; last != nil && next.After(last.Time) {
		gap = max(gap, next.Sub(last.Time))
	}
	since := sc.CreationTimestamp.Time
	if t := sc.Status.LastSuccessfulBackupTime; t != nil {
		since = t.Time
	}
	return now.Sub(since) > 2*gap
}

func running(phase v1alpha1.BackupPhase) bool {
	return !phase.Done() && phase != v1alpha1.BackupDeleting
}

func (s *Server) runningBackups(ctx context.Context, now time.Time, bs []v1alpha1.Backup) []runRow {
	var out []runRow
	for i := range bs {
		b := &bs[i]
		if !running(b.Status.Phase) {
			continue
		}
		vols := backupVolumes(now, s.backupItems(ctx, b), nil)
		out = append(out, runRow{Kind: "backup", NS: b.Namespace, Name: b.Name, Phase: phaseOr(string(b.Status.Phase), "New"),
			Started: b.Status.StartTime, Elapsed: elapsed(now, b.Status.StartTime, nil), Total: total(vols), Volumes: vols,
			VolumesDone: doneCount(vols)})
	}
	return sortRuns(out)
}

func (s *Server) runningRestores(ctx context.Context, now time.Time, rs []v1alpha1.Restore) []runRow {
	var out []runRow
	for i := range rs {
		r := &rs[i]
		if r.Status.Phase.Done() {
			continue
		}
		vols := restoreVolumes(now, s.restoreItems(ctx, r))
		out = append(out, runRow{Kind: "restore", NS: r.Namespace, Name: r.Name, Phase: phaseOr(string(r.Status.Phase), "New"),
			Started: r.Status.StartTime, Elapsed: elapsed(now, r.Status.StartTime, nil), Total: total(vols), Volumes: vols,
			VolumesDone: doneCount(vols)})
	}
	return sortRuns(out)
}

func sortRuns(rows []runRow) []runRow {
	slices.SortFunc(rows, func(a, b runRow) int { return compareStrings(a.NS+"/"+a.Name, b.NS+"/"+b.Name) })
	return rows
}

func doneCount(rows []volumeRow) int {
	n := 0
	for _, r := range rows {
		if v1alpha1.WorkPhase(r.Phase).Done() {
			n++
		}
	}
	return n
}

func phaseOr(p, def string) string {
	if p == "" {
		return def
	}
	return p
}

// failures are the backups and restores that failed, wholly or partly,
// within the failure window, newest first.
func failures(now time.Time, bs []v1alpha1.Backup, rs []v1alpha1.Restore) []failureRow {
	var out []failureRow
	recentEnd := func(end *metav1.Time, created metav1.Time) (*metav1.Time, bool) {
		if end == nil {
			end = &created
		}
		return end, now.Sub(end.Time) <= failureWindow
	}
	for i := range bs {
		b := &bs[i]
		if p := b.Status.Phase; p != v1alpha1.BackupFailed && p != v1alpha1.BackupPartiallyFailed {
			continue
		}
		if when, ok := recentEnd(b.Status.CompletionTime, b.CreationTimestamp); ok {
			out = append(out, failureRow{Kind: "backup", NS: b.Namespace, Name: b.Name, Phase: string(b.Status.Phase),
				Reason: reason(b.Status.Errors, b.Status.Conditions), When: when})
		}
	}
	for i := range rs {
		r := &rs[i]
		if p := r.Status.Phase; p != v1alpha1.RestoreFailed && p != v1alpha1.RestorePartiallyFailed {
			continue
		}
		if when, ok := recentEnd(r.Status.CompletionTime, r.CreationTimestamp); ok {
			out = append(out, failureRow{Kind: "restore", NS: r.Namespace, Name: r.Name, Phase: string(r.Status.Phase),
				Reason: reason(r.Status.Errors, r.Status.Conditions), When: when})
		}
	}
	slices.SortStableFunc(out, func(a, b failureRow) int { return b.When.Compare(a.When.Time) })
	return out
}

// recent are the newest n finished backups.
func recent(now time.Time, bs []v1alpha1.Backup, n int) []backupRow {
	var done []*v1alpha1.Backup
	for i := range bs {
		if bs[i].Status.Phase.Done() {
			done = append(done, &bs[i])
		}
	}
	slices.SortStableFunc(done, func(a, b *v1alpha1.Backup) int { return endTime(b).Compare(endTime(a)) })
	var out []backupRow
	for _, b := range done[:min(n, len(done))] {
		out = append(out, backupRowOf(now, b))
	}
	return out
}

func backupRowOf(now time.Time, b *v1alpha1.Backup) backupRow {
	return backupRow{NS: b.Namespace, Name: b.Name, Phase: phaseOr(string(b.Status.Phase), "New"), Location: locationName(b),
		Schedule: b.Labels[v1alpha1.LabelSchedule], Started: b.Status.StartTime, Completed: b.Status.CompletionTime,
		Duration: elapsed(now, b.Status.StartTime, b.Status.CompletionTime), Bytes: backupBytes(b), Items: b.Status.ItemsBackedUp}
}

func endTime(b *v1alpha1.Backup) time.Time {
	if t := b.Status.CompletionTime; t != nil {
		return t.Time
	}
	return b.CreationTimestamp.Time
}
