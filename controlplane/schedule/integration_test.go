package schedule_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	corev1 "k8s.io/api/core/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/schedule"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// startManager runs a manager with the Schedule controller on env until
// the test ends.
func startManager(t *testing.T, env *testenv.Env, clock schedule.Clock) {
	t.Helper()
	env.StartManager(t, func(mgr ctrl.Manager) error {
		return schedule.New(schedule.Config{Clock: clock, MaxWait: 100 * time.Millisecond}).SetupWithManager(mgr)
	})
}

func createNamespace(t *testing.T, c client.Client) {
	t.Helper()
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
}

func complete(t *testing.T, c client.Client, name string) {
	t.Helper()
	ctx := context.Background()
	var b v1alpha1.Backup
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &b); err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	b.Status.Phase, b.Status.StartTime, b.Status.CompletionTime = v1alpha1.BackupCompleted, &now, &now
	if err := c.Status().Update(ctx, &b); err != nil {
		t.Fatal(err)
	}
}

func listBackups(t *testing.T, c client.Client) []string {
	t.Helper()
	var list v1alpha1.BackupList
	if err := c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list.Items {
		names = append(names, b.Name)
	}
	return names
}

// On a real API server: the cron fires twice under a fake clock, and
// retention (keep last 1) deletes the older Backup once the newer one
// completes; an invalid expression is reported in the Valid condition.
func TestIntegrationScheduleFiresAndRetires(t *testing.T) {
	env := testenv.Start(t)
	createNamespace(t, env.Client)
	// Start just before an hour boundary, after the Schedule's creation.
	start := time.Now().UTC().Truncate(time.Hour).Add(time.Hour - time.Minute)
	clock := &fakeClock{t: start}
	startManager(t, env, clock)
	ctx := context.Background()

	s := &v1alpha1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: "hourly", Namespace: ns},
		Spec: v1alpha1.ScheduleSpec{Schedule: "0 * * * *", Retention: v1alpha1.Retention{KeepLast: 1},
			Template: v1alpha1.BackupSpec{IncludedNamespaces: []string{"app"}}}}
	if err := env.Client.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	first := schedule.BackupName("hourly", start.Add(time.Minute))
	second := schedule.BackupName("hourly", start.Add(time.Hour+time.Minute))

	clock.Add(2 * time.Minute)
	testenv.Eventually(t, "the first Backup", func() bool { return strings.Join(listBackups(t, env.Client), ",") == first })
	complete(t, env.Client, first)

	clock.Add(time.Hour)
	testenv.Eventually(t, "the second Backup", func() bool { return len(listBackups(t, env.Client)) == 2 })
	complete(t, env.Client, second)
	testenv.Eventually(t, "retention to delete "+first, func() bool {
		return strings.Join(listBackups(t, env.Client), ",") == second
	})

	var got v1alpha1.Schedule
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(s), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.LastBackupName != second || got.Status.LastSuccessfulBackupTime == nil || got.Status.NextScheduleTime == nil {
		t.Fatalf("status: %+v", got.Status)
	}

	bad := &v1alpha1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: "typo", Namespace: ns},
		Spec: v1alpha1.ScheduleSpec{Schedule: "0 25 * * *"}}
	if err := env.Client.Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "Valid=False on the invalid Schedule", func() bool {
		var b v1alpha1.Schedule
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(bad), &b); err != nil {
			t.Fatal(err)
		}
		c := meta.FindStatusCondition(b.Status.Conditions, v1alpha1.ConditionValid)
		return c != nil && c.Status == metav1.ConditionFalse &&
			strings.Contains(c.Message, `Schedule cairn/typo: cron expression "0 25 * * *" is invalid`)
	})
}
