package schedule

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/metrics"
	"github.com/cairnbackup/cairn/controlplane/schedule/cronspec"
)

// run makes the Backup of the due slot, if any, and schedules the next look.
func (r *Reconciler) run(ctx context.Context, s *v1alpha1.Schedule, spec cronspec.Spec, backups []v1alpha1.Backup) (ctrl.Result, error) {
	now := r.cfg.Clock.Now()
	ref := lastRun(s, backups)
	if slot, ok := spec.Due(ref, now); ok {
		if spec.Missed(ref, slot) {
			r.cfg.Recorder.Eventf(s, nil, "Warning", "MissedRuns", "Schedule",
				"slots between %s and %s were missed (was the controller down?); running only the newest, %s",
				ref.UTC().Format(time.RFC3339), slot.Format(time.RFC3339), slot.Format(time.RFC3339))
		}
		name, err := r.createBackup(ctx, s, slot)
		if err != nil {
			return ctrl.Result{}, err
		}
		if name != "" {
			t := metav1.NewTime(slot)
			s.Status.LastScheduleTime, s.Status.LastBackupName = &t, name
		}
	}
	next := spec.Next(now)
	nt := metav1.NewTime(next)
	s.Status.NextScheduleTime = &nt
	metrics.ScheduleRunning(s.Name, interval(spec, s.Status.LastScheduleTime, next), s.CreationTimestamp.Time)
	return ctrl.Result{RequeueAfter: min(max(next.Sub(now), time.Second), r.cfg.MaxWait)}, nil
}

// interval is the schedule's period around now, for the alert on a
// schedule with no success in twice its interval: the longer of the gap
// from the last slot to the next and the gap after the next, so an
// irregular expression (weekdays only) is judged by its longest current
// gap and a success on Friday does not alert on Sunday.
func interval(spec cronspec.Spec, last *metav1.Time, next time.Time) time.Duration {
	d := spec.Next(next).Sub(next)
	if last != nil && next.After(last.Time) {
		d = max(d, next.Sub(last.Time))
	}
	return d
}

// lastRun is the time after which a slot is new: the Schedule's creation,
// its last recorded slot, or the newest slot one of its Backups records,
// whichever is latest.
func lastRun(s *v1alpha1.Schedule, backups []v1alpha1.Backup) time.Time {
	ref := s.CreationTimestamp.Time
	if t := s.Status.LastScheduleTime; t != nil && t.After(ref) {
		ref = t.Time
	}
	for i := range backups {
		if t, ok := scheduledFor(&backups[i]); ok && t.After(ref) {
			ref = t
		}
	}
	return ref
}

// createBackup creates the slot's Backup. It returns the Backup's name, or
// "" when the template was rejected (reported through the Valid condition).
func (r *Reconciler) createBackup(ctx context.Context, s *v1alpha1.Schedule, slot time.Time) (string, error) {
	b := &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{
			Name:        BackupName(s.Name, slot),
			Namespace:   s.Namespace,
			Labels:      map[string]string{v1alpha1.LabelSchedule: s.Name},
			Annotations: map[string]string{AnnotationScheduledFor: slot.UTC().Format(time.RFC3339)},
		},
		Spec: *s.Spec.Template.DeepCopy(),
	}
	err := r.cfg.Client.Create(ctx, b)
	switch {
	case err == nil:
		r.cfg.Recorder.Eventf(s, b, "Normal", "BackupCreated", "CreateBackup",
			"created Backup %s for the slot at %s", b.Name, slot.UTC().Format(time.RFC3339))
		return b.Name, nil
	case apierrors.IsAlreadyExists(err):
		return b.Name, nil // this slot was already run
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		r.templateRejected(s, err)
		return "", nil
	default:
		return "", fmt.Errorf("create Backup %s/%s for Schedule %s: %w", b.Namespace, b.Name, s.Name, err)
	}
}

// templateRejected reports a template the API server refuses; retrying
// cannot help until the spec changes.
func (r *Reconciler) templateRejected(s *v1alpha1.Schedule, err error) {
	msg := fmt.Sprintf("Schedule %s/%s: the API server rejected the Backup made from spec.template: %v; fix spec.template",
		s.Namespace, s.Name, err)
	meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionValid, Status: metav1.ConditionFalse, Reason: "TemplateRejected",
		Message: msg, ObservedGeneration: s.Generation, LastTransitionTime: r.now(),
	})
	r.cfg.Recorder.Eventf(s, nil, "Warning", "TemplateRejected", "CreateBackup", "%s", msg)
}

// BackupName is the name of the Backup a Schedule makes for a slot.
func BackupName(schedule string, slot time.Time) string {
	return schedule + "-" + slot.UTC().Format("20060102150405")
}

func scheduledFor(b *v1alpha1.Backup) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, b.Annotations[AnnotationScheduledFor])
	return t, err == nil
}

func (r *Reconciler) listBackups(ctx context.Context, s *v1alpha1.Schedule) ([]v1alpha1.Backup, error) {
	var list v1alpha1.BackupList
	err := r.cfg.Client.List(ctx, &list, client.InNamespace(s.Namespace),
		client.MatchingLabels{v1alpha1.LabelSchedule: s.Name})
	if err != nil {
		return nil, fmt.Errorf("list Backups of Schedule %s/%s: %w", s.Namespace, s.Name, err)
	}
	return list.Items, nil
}
