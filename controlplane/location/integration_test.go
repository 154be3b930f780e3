package location_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/location"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

func startManager(t *testing.T, env *testenv.Env, clock location.Clock) {
	t.Helper()
	env.StartManager(t, func(mgr ctrl.Manager) error {
		cfg := location.Config{Clock: clock, MaxWait: 100 * time.Millisecond,
			Opener: &locations.Opener{Client: mgr.GetAPIReader(), KDF: crypto.FastKDFForTests}}
		return location.SetupWithManager(mgr, cfg)
	})
}

// On a real API server: a location whose password Secret is missing is
// Unavailable with a message naming the Secret; creating the Secret makes
// it Available without waiting for the validation interval. A finished
// Backup past its expiration is deleted.
func TestIntegrationLocationAndExpiry(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	startManager(t, env, clock)

	loc := fileLocation("default", filepath.Join(t.TempDir(), "repo"))
	loc.CreationTimestamp = metav1.Time{}
	loc.Spec.ValidationInterval = &metav1.Duration{Duration: time.Hour} // only the Secret's arrival can wake it
	if err := c.Create(ctx, loc); err != nil {
		t.Fatal(err)
	}
	condition := func() *metav1.Condition {
		var l v1alpha1.BackupLocation
		if err := c.Get(ctx, client.ObjectKeyFromObject(loc), &l); err != nil {
			t.Fatal(err)
		}
		return meta.FindStatusCondition(l.Status.Conditions, v1alpha1.ConditionAvailable)
	}
	testenv.Eventually(t, "Unavailable naming the Secret", func() bool {
		cond := condition()
		return cond != nil && cond.Status == metav1.ConditionFalse && cond.Reason == location.ReasonSecretMissing &&
			strings.Contains(cond.Message, "Secret cairn/pw does not exist; create it")
	})
	if err := c.Create(ctx, pwSecret(password)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "Available after the Secret was created", func() bool {
		cond := condition()
		return cond != nil && cond.Status == metav1.ConditionTrue
	})

	b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: ns}}
	if err := c.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	exp := metav1.NewTime(clock.Now().Add(time.Hour))
	b.Status = v1alpha1.BackupStatus{Phase: v1alpha1.BackupCompleted, Expiration: &exp}
	if err := c.Status().Update(ctx, b); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a few MaxWait periods: it must survive them
	if err := c.Get(ctx, client.ObjectKeyFromObject(b), b); err != nil {
		t.Fatalf("deleted before it expired: %v", err)
	}
	clock.Add(2 * time.Hour)
	testenv.Eventually(t, "the expired Backup to be deleted", func() bool {
		var list v1alpha1.BackupList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		return len(list.Items) == 0
	})
}
