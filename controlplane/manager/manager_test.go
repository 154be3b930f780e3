package manager_test

import (
	"context"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/dashboard"
	"github.com/cairnbackup/cairn/controlplane/manager"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// The assembled manager starts every controller against a real API server
// and acts on objects: a Backup without a location fails with a reason, an
// invalid Schedule is marked invalid.
func TestManagerRunsTheControllers(t *testing.T) {
	env := testenv.Start(t)
	mgr, err := manager.New(env.Config, manager.Config{MetricsAddr: "0", ProbeAddr: "0",
		Dashboard: dashboard.Config{BindAddress: "127.0.0.1:0"}}) // served beside the controllers, from their cache
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = mgr.Start(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "default"}}
	s := &v1alpha1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"},
		Spec: v1alpha1.ScheduleSpec{Schedule: "not a cron"}}
	for _, o := range []client.Object{b, s} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(b), b)
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(s), s)
		if b.Status.Phase == v1alpha1.BackupFailed && len(s.Status.Conditions) > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("controllers did not act: backup %+v, schedule %+v", b.Status, s.Status)
}
