package schedule

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/metrics"
	"github.com/cairnbackup/cairn/controlplane/schedule/cronspec"
)

// AnnotationScheduledFor records, on a Backup a Schedule made, the slot it
// was made for (RFC 3339, UTC). Retention buckets by it.
const AnnotationScheduledFor = "cairn.dev/scheduled-for"

// DefaultMaxWait bounds a requeue: a wall-clock jump or a lost event delays
// a slot by at most this, at the cost of one cheap cached reconcile per
// Schedule per period.
const DefaultMaxWait = 5 * time.Minute

// maxNameLen keeps <schedule>-<yyyymmddhhmmss> within 63 characters, the
// limit of the label values that carry Backup names (cairn.dev/backup).
const maxNameLen = 63 - len("-20060102150405")

// Clock tells the time; tests inject a fake.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Config holds the controller's dependencies and settings. Zero fields take
// defaults in SetupWithManager: the manager's client and an event recorder
// named "cairn-schedule".
type Config struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Clock defaults to the system clock.
	Clock Clock
	// MaxWait defaults to DefaultMaxWait.
	MaxWait time.Duration
}

// Reconciler reconciles Schedules.
type Reconciler struct {
	cfg Config
}

// New returns a Reconciler; SetupWithManager fills its missing dependencies.
func New(cfg Config) *Reconciler {
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	return &Reconciler{cfg: cfg}
}

// Reconcile brings one Schedule up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var s v1alpha1.Schedule
	if err := r.cfg.Client.Get(ctx, req.NamespacedName, &s); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.ForgetSchedule(req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get Schedule %s: %w", req, err)
	}
	if !s.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	orig := s.DeepCopy()
	backups, err := r.listBackups(ctx, &s)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.observeSuccess(&s, backups)
	res, runErr := r.step(ctx, &s, backups)
	retErr := r.applyRetention(ctx, &s, backups)
	if err := r.writeStatus(ctx, orig, &s); err != nil {
		return ctrl.Result{}, err
	}
	if runErr != nil {
		return ctrl.Result{}, runErr
	}
	return res, retErr
}

// step is the Schedule's state machine: invalid, paused or running.
func (r *Reconciler) step(ctx context.Context, s *v1alpha1.Schedule, backups []v1alpha1.Backup) (ctrl.Result, error) {
	spec, problem := r.validate(s)
	switch {
	case problem != "":
		r.invalid(s, problem)
		metrics.ScheduleIdle(s.Name)
		return ctrl.Result{}, nil
	case s.Spec.Paused:
		r.valid(s, "Paused", "the schedule is paused; set spec.paused=false to resume")
		s.Status.NextScheduleTime = nil
		metrics.ScheduleIdle(s.Name)
		return ctrl.Result{}, nil
	default:
		r.valid(s, "Scheduled", fmt.Sprintf("Backups are made on %q", s.Spec.Schedule))
		return r.run(ctx, s, spec, backups)
	}
}

// validate returns the parsed expression, or a message saying what to fix.
func (r *Reconciler) validate(s *v1alpha1.Schedule) (cronspec.Spec, string) {
	if len(s.Name) > maxNameLen {
		return cronspec.Spec{}, fmt.Sprintf("Schedule %s/%s: the name is longer than %d characters, so the names of its Backups "+
			"(<schedule>-<yyyymmddhhmmss>) would not fit a 63-character label; recreate it with a shorter name",
			s.Namespace, s.Name, maxNameLen)
	}
	spec, err := cronspec.Parse(s.Spec.Schedule)
	if err != nil {
		return spec, fmt.Sprintf("Schedule %s/%s: cron expression %q is invalid: %v; use five fields "+
			"(minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\") or a descriptor such as @daily",
			s.Namespace, s.Name, s.Spec.Schedule, err)
	}
	return spec, ""
}

func (r *Reconciler) invalid(s *v1alpha1.Schedule, msg string) {
	s.Status.NextScheduleTime = nil
	changed := meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionValid, Status: metav1.ConditionFalse, Reason: "InvalidSpec",
		Message: msg, ObservedGeneration: s.Generation, LastTransitionTime: r.now(),
	})
	if changed {
		r.cfg.Recorder.Eventf(s, nil, "Warning", "InvalidSpec", "Validate", "%s", msg)
	}
}

func (r *Reconciler) valid(s *v1alpha1.Schedule, reason, msg string) {
	meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionValid, Status: metav1.ConditionTrue, Reason: reason,
		Message: msg, ObservedGeneration: s.Generation, LastTransitionTime: r.now(),
	})
}

func (r *Reconciler) writeStatus(ctx context.Context, orig, s *v1alpha1.Schedule) error {
	if equality.Semantic.DeepEqual(orig.Status, s.Status) {
		return nil
	}
	if err := r.cfg.Client.Status().Patch(ctx, s, client.MergeFrom(orig)); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of Schedule %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

func (r *Reconciler) now() metav1.Time { return metav1.NewTime(r.cfg.Clock.Now()) }
