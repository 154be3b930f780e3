package schedule_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/schedule"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

const ns = "cairn"

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

type harness struct {
	t      *testing.T
	client client.Client
	clock  *fakeClock
	rec    *events.FakeRecorder
	r      *schedule.Reconciler
}

func newHarness(t *testing.T, now string, funcs *interceptor.Funcs, objs ...client.Object) *harness {
	b := fake.NewClientBuilder().WithScheme(testenv.Scheme()).
		WithStatusSubresource(&v1alpha1.Schedule{}, &v1alpha1.Backup{}).WithObjects(objs...)
	if funcs != nil {
		b = b.WithInterceptorFuncs(*funcs)
	}
	h := &harness{t: t, client: b.Build(), clock: &fakeClock{t: at(now)}, rec: events.NewFakeRecorder(100)}
	h.r = schedule.New(schedule.Config{Client: h.client, Recorder: h.rec, Clock: h.clock, MaxWait: time.Hour})
	return h
}

func newSchedule(name, expr, created string) *v1alpha1.Schedule {
	return &v1alpha1.Schedule{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: metav1.NewTime(at(created))},
		Spec: v1alpha1.ScheduleSpec{Schedule: expr,
			Template: v1alpha1.BackupSpec{IncludedNamespaces: []string{"app"}, LocationName: "default"}},
	}
}

func (h *harness) reconcile(name string) ctrl.Result {
	h.t.Helper()
	res, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	if err != nil {
		h.t.Fatalf("Reconcile: %v", err)
	}
	return res
}

func (h *harness) schedule(name string) *v1alpha1.Schedule {
	h.t.Helper()
	var s v1alpha1.Schedule
	if err := h.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &s); err != nil {
		h.t.Fatal(err)
	}
	return &s
}

func (h *harness) backups() map[string]v1alpha1.Backup {
	h.t.Helper()
	var list v1alpha1.BackupList
	if err := h.client.List(context.Background(), &list); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]v1alpha1.Backup{}
	for _, b := range list.Items {
		out[b.Name] = b
	}
	return out
}

func (h *harness) events() []string {
	var out []string
	for {
		select {
		case e := <-h.rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestCreatesBackupForDueSlot(t *testing.T) {
	h := newHarness(t, "2026-11-26T03:00:10Z", nil, newSchedule("nightly", "0 3 * * *", "2026-11-25T12:00:00Z"))
	res := h.reconcile("nightly")
	b, ok := h.backups()["nightly-20261126030000"]
	if !ok {
		t.Fatalf("no Backup for the 03:00 slot: %v", h.backups())
	}
	if b.Labels[v1alpha1.LabelSchedule] != "nightly" || b.Spec.IncludedNamespaces[0] != "app" ||
		b.Annotations[schedule.AnnotationScheduledFor] != "2026-11-26T03:00:00Z" {
		t.Fatalf("Backup: labels %v annotations %v spec %+v", b.Labels, b.Annotations, b.Spec)
	}
	s := h.schedule("nightly")
	if s.Status.LastBackupName != b.Name || !s.Status.LastScheduleTime.Equal(&metav1.Time{Time: at("2026-11-26T03:00:00Z")}) ||
		!s.Status.NextScheduleTime.Time.Equal(at("2026-11-27T03:00:00Z")) {
		t.Fatalf("status: %+v", s.Status)
	}
	if !meta.IsStatusConditionTrue(s.Status.Conditions, v1alpha1.ConditionValid) {
		t.Fatalf("conditions: %+v", s.Status.Conditions)
	}
	if res.RequeueAfter != time.Hour { // next slot is a day away; capped by MaxWait
		t.Fatalf("RequeueAfter = %v", res.RequeueAfter)
	}
	// Nothing new is due: a second pass makes nothing.
	h.clock.Add(time.Minute)
	h.reconcile("nightly")
	if n := len(h.backups()); n != 1 {
		t.Fatalf("%d Backups after a second pass", n)
	}
}

func TestWaitsForFirstSlotAfterCreation(t *testing.T) {
	h := newHarness(t, "2026-11-26T10:40:00Z", nil, newSchedule("hourly", "0 * * * *", "2026-11-26T10:30:00Z"))
	res := h.reconcile("hourly")
	if n := len(h.backups()); n != 0 {
		t.Fatalf("made %d Backups for a slot before the Schedule existed", n)
	}
	if res.RequeueAfter != 20*time.Minute {
		t.Fatalf("RequeueAfter = %v, want 20m", res.RequeueAfter)
	}
}

// A stale Schedule (status without the last run) does not run a slot
// again: the Backup's annotation counts, even after retention deleted
// older ones, and the deterministic name guards the rest.
func TestNeverTwoBackupsForOneSlot(t *testing.T) {
	h := newHarness(t, "2026-11-26T11:00:05Z", nil, newSchedule("hourly", "0 * * * *", "2026-11-26T10:30:00Z"))
	h.reconcile("hourly")
	s := h.schedule("hourly")
	s.Status.LastScheduleTime = nil // as a lagging cache would show it
	if err := h.client.Status().Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	h.reconcile("hourly")
	if n := len(h.backups()); n != 1 {
		t.Fatalf("%d Backups for one slot", n)
	}
}

func TestMissedRunsMakeOneBackup(t *testing.T) {
	h := newHarness(t, "2026-11-26T15:20:00Z", nil, newSchedule("hourly", "0 * * * *", "2026-11-26T10:30:00Z"))
	h.reconcile("hourly")
	got := h.backups()
	if _, ok := got["hourly-20261126150000"]; !ok || len(got) != 1 {
		t.Fatalf("Backups = %v, want only the 15:00 slot", got)
	}
	if ev := strings.Join(h.events(), "\n"); !strings.Contains(ev, "Warning MissedRuns") {
		t.Fatalf("events: %s", ev)
	}
}

func TestPausedMakesNothing(t *testing.T) {
	s := newSchedule("hourly", "0 * * * *", "2026-11-26T10:30:00Z")
	s.Spec.Paused = true
	h := newHarness(t, "2026-11-26T11:00:05Z", nil, s)
	res := h.reconcile("hourly")
	if len(h.backups()) != 0 || res.RequeueAfter != 0 {
		t.Fatalf("paused: backups %v, requeue %v", h.backups(), res)
	}
	c := meta.FindStatusCondition(h.schedule("hourly").Status.Conditions, v1alpha1.ConditionValid)
	if c == nil || c.Reason != "Paused" {
		t.Fatalf("condition %+v", c)
	}
}

func TestInvalidSpec(t *testing.T) {
	cases := []struct{ name, schedule, expr, want string }{
		{"bad field", "nightly", "61 3 * * *", `Schedule cairn/nightly: cron expression "61 3 * * *" is invalid`},
		{"too few fields", "nightly", "3 * *", `cron expression "3 * *" is invalid: expected exactly 5 fields`},
		{"panicking zone prefix", "nightly", "TZ=UTC", `cron expression "TZ=UTC" is invalid`},
		{"too frequent", "nightly", "@every 5s", "shortest period"},
		{"name too long", strings.Repeat("n", 49), "@daily", "name is longer than 48 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "2026-11-26T11:00:05Z", nil, newSchedule(tc.schedule, tc.expr, "2026-01-01T00:00:00Z"))
			res := h.reconcile(tc.schedule)
			c := meta.FindStatusCondition(h.schedule(tc.schedule).Status.Conditions, v1alpha1.ConditionValid)
			if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, tc.want) {
				t.Fatalf("Valid condition = %+v, want False with %q", c, tc.want)
			}
			ev := h.events()
			if len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning InvalidSpec") {
				t.Fatalf("events %q", ev)
			}
			if len(h.backups()) != 0 || res.RequeueAfter != 0 {
				t.Fatal("an invalid Schedule made a Backup or requeued")
			}
			h.reconcile(tc.schedule)
			if ev := h.events(); len(ev) != 0 {
				t.Fatalf("repeated event for an unchanged problem: %q", ev)
			}
		})
	}
}

func TestTemplateRejected(t *testing.T) {
	funcs := &interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
		return apierrors.NewInvalid(schema.GroupKind{Group: "cairn.dev", Kind: "Backup"}, o.GetName(), nil)
	}}
	h := newHarness(t, "2026-11-26T11:00:05Z", funcs, newSchedule("hourly", "0 * * * *", "2026-11-26T10:30:00Z"))
	h.reconcile("hourly")
	c := meta.FindStatusCondition(h.schedule("hourly").Status.Conditions, v1alpha1.ConditionValid)
	if c == nil || c.Reason != "TemplateRejected" || !strings.Contains(c.Message, "fix spec.template") {
		t.Fatalf("condition %+v", c)
	}
}
