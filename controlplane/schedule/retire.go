package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/metrics"
	"github.com/cairnbackup/cairn/controlplane/retention"
)

// observeSuccess sets LastSuccessfulBackupTime from the newest Completed
// Backup, never moving it back (Backups may be deleted), and the gauge.
func (r *Reconciler) observeSuccess(s *v1alpha1.Schedule, backups []v1alpha1.Backup) {
	last := s.Status.LastSuccessfulBackupTime
	for i := range backups {
		b := &backups[i]
		if b.Status.Phase != v1alpha1.BackupCompleted {
			continue
		}
		t := backupTime(b)
		if c := b.Status.CompletionTime; c != nil {
			t = c.Time
		}
		if last == nil || t.After(last.Time) {
			mt := metav1.NewTime(t)
			last = &mt
		}
	}
	s.Status.LastSuccessfulBackupTime = last
	if last != nil {
		metrics.ScheduleSucceeded(s.Name, last.Time)
	}
}

// applyRetention deletes the Completed Backups the Schedule's retention
// does not keep.
func (r *Reconciler) applyRetention(ctx context.Context, s *v1alpha1.Schedule, backups []v1alpha1.Backup) error {
	if retention.KeepsAll(s.Spec.Retention) {
		return nil
	}
	byName := map[string]*v1alpha1.Backup{}
	var entries []retention.Entry
	for i := range backups {
		b := &backups[i]
		if b.Status.Phase != v1alpha1.BackupCompleted || !b.DeletionTimestamp.IsZero() {
			continue
		}
		byName[b.Name] = b
		entries = append(entries, retention.Entry{Name: b.Name, Time: backupTime(b)})
	}
	_, drop := retention.Select(entries, s.Spec.Retention, r.cfg.Clock.Now())
	var errs []error
	for _, name := range drop {
		errs = append(errs, r.retire(ctx, s, byName[name]))
	}
	return errors.Join(errs...)
}

func (r *Reconciler) retire(ctx context.Context, s *v1alpha1.Schedule, b *v1alpha1.Backup) error {
	err := r.cfg.Client.Delete(ctx, b, client.Preconditions{UID: &b.UID})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone already, or replaced by a new object of that name
	}
	if err != nil {
		return fmt.Errorf("delete Backup %s/%s retired by Schedule %s: %w", b.Namespace, b.Name, s.Name, err)
	}
	p := s.Spec.Retention
	r.cfg.Recorder.Eventf(s, b, "Normal", "BackupRetired", "DeleteBackup",
		"deleted Backup %s: not kept by retention (keepLast %d, hourly %d, daily %d, weekly %d, monthly %d, yearly %d)",
		b.Name, p.KeepLast, p.Hourly, p.Daily, p.Weekly, p.Monthly, p.Yearly)
	return nil
}

// backupTime places a Backup in time for retention: the slot it was made
// for, else its start, else its creation.
func backupTime(b *v1alpha1.Backup) time.Time {
	if t, ok := scheduledFor(b); ok {
		return t
	}
	if b.Status.StartTime != nil {
		return b.Status.StartTime.Time
	}
	return b.CreationTimestamp.Time
}

// BackupTime is where retention places a Backup in time, exported so the
// CLI's schedule describe shows what retention would keep exactly as this
// controller decides it.
func BackupTime(b *v1alpha1.Backup) time.Time { return backupTime(b) }
