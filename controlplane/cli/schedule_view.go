package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/retention"
	"github.com/cairnbackup/cairn/controlplane/schedule"
)

func scheduleTable(w io.Writer, now time.Time, ss []v1alpha1.Schedule) error {
	t := newTable(w, "NAME", "SCHEDULE", "PAUSED", "RETENTION", "LAST BACKUP", "LAST", "NEXT", "AGE")
	for _, s := range ss {
		next := "<none>"
		if s.Status.NextScheduleTime != nil {
			next = "in " + until(now, s.Status.NextScheduleTime)
		}
		t.row(s.Name, s.Spec.Schedule, s.Spec.Paused, retentionText(s.Spec.Retention), orNone(s.Status.LastBackupName),
			agePtr(now, s.Status.LastScheduleTime), next, age(now, s.CreationTimestamp))
	}
	return t.flush()
}

// retentionText is a policy in short: last=3,daily=7.
func retentionText(r v1alpha1.Retention) string {
	if retention.KeepsAll(r) {
		return "all"
	}
	var parts []string
	for _, p := range []struct {
		name string
		n    int32
	}{{"last", r.KeepLast}, {"hourly", r.Hourly}, {"daily", r.Daily}, {"weekly", r.Weekly}, {"monthly", r.Monthly}, {"yearly", r.Yearly}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", p.name, p.n))
		}
	}
	return strings.Join(parts, ",")
}

func describeScheduleCmd(cmd *cobra.Command, e *env, obj client.Object) error {
	s := obj.(*v1alpha1.Schedule)
	c, err := e.kube()
	if err != nil {
		return err
	}
	var bs v1alpha1.BackupList
	if err := c.List(ctxOf(cmd), &bs, client.InNamespace(e.namespace), client.MatchingLabels{v1alpha1.LabelSchedule: s.Name}); err != nil {
		return fmt.Errorf("list the backups of schedule %s: %w", s.Name, err)
	}
	return describeSchedule(e.cfg.Out, e.cfg.Now(), s, bs.Items)
}

// describeSchedule shows the template, the next runs and, for the
// schedule's backups, what retention keeps and deletes.
func describeSchedule(w io.Writer, now time.Time, s *v1alpha1.Schedule, backups []v1alpha1.Backup) error {
	d := newDescriber(w)
	st := s.Status
	d.kv(0, "Name", "%s", s.Name)
	d.kv(0, "Namespace", "%s", s.Namespace)
	d.kv(0, "Schedule", "%s (UTC)", s.Spec.Schedule)
	d.kv(0, "Paused", "%t", s.Spec.Paused)
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionValid); c != nil {
		d.kv(1, c.Type, "%s (%s) %s", c.Status, c.Reason, c.Message)
	}
	d.kv(0, "Location", "%s", orDefault(s.Spec.Template.LocationName))
	selection(d, s.Spec.Template)
	d.kv(0, "Retention", "%s", retentionText(s.Spec.Retention))
	d.kv(0, "Last backup", "%s", orNone(st.LastBackupName))
	d.kv(0, "Last run", "%s", stamp(now, st.LastScheduleTime))
	d.kv(0, "Last success", "%s", stamp(now, st.LastSuccessfulBackupTime))
	if s.Spec.Paused {
		d.kv(0, "Next runs", "none while paused (cairn schedule unpause %s)", s.Name)
	} else {
		runs := nextRuns(s.Spec.Schedule, now, 5)
		var lines []string
		for _, r := range runs {
			lines = append(lines, stamp(now, timePtr(r)))
		}
		d.items(0, "Next runs", lines)
	}
	retentionView(d, now, s.Spec.Retention, backups)
	return d.flush()
}

// retentionView lists the schedule's backups with what retention would do
// to each, decided by the controller's own rules (retention.Select over
// Completed backups placed by schedule.BackupTime).
func retentionView(d *describer, now time.Time, r v1alpha1.Retention, backups []v1alpha1.Backup) {
	sort.Slice(backups, func(i, j int) bool {
		return schedule.BackupTime(&backups[i]).After(schedule.BackupTime(&backups[j]))
	})
	var entries []retention.Entry
	for i := range backups {
		b := &backups[i]
		if b.Status.Phase == v1alpha1.BackupCompleted && b.DeletionTimestamp.IsZero() {
			entries = append(entries, retention.Entry{Name: b.Name, Time: schedule.BackupTime(b)})
		}
	}
	keep, _ := retention.Select(entries, r, now)
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	if len(backups) == 0 {
		d.kv(0, "Backups", "<none>")
		return
	}
	d.line(0, "Backups:\t%d (retention keeps %d of the %d Completed)", len(backups), len(keep), len(entries))
	for i := range backups {
		b := &backups[i]
		verdict := "kept (not Completed: retention leaves it to its TTL)"
		switch {
		case !b.DeletionTimestamp.IsZero():
			verdict = "being deleted"
		case b.Status.Phase != v1alpha1.BackupCompleted:
		case kept[b.Name]:
			verdict = "kept by retention"
		default:
			verdict = "not kept: retention deletes it"
		}
		d.kv(1, b.Name, "%s, %s, %s", orNew(b.Status.Phase), schedule.BackupTime(b).UTC().Format(time.RFC3339), verdict)
	}
}
