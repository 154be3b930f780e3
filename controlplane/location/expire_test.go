package location_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/location"
)

func expiringBackup(name string, phase v1alpha1.BackupPhase, expires string) *v1alpha1.Backup {
	b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Status: v1alpha1.BackupStatus{Phase: phase}}
	if expires != "" {
		t := metav1.NewTime(at(expires))
		b.Status.Expiration = &t
	}
	return b
}

func TestExpiry(t *testing.T) {
	cases := []struct {
		name    string
		backup  *v1alpha1.Backup
		deleted bool
		requeue time.Duration
	}{
		{name: "expired", backup: expiringBackup("b", v1alpha1.BackupCompleted, "2026-11-26T11:00:00Z"), deleted: true},
		{name: "expired and failed", backup: expiringBackup("b", v1alpha1.BackupFailed, "2026-11-26T11:00:00Z"), deleted: true},
		{name: "expires soon", backup: expiringBackup("b", v1alpha1.BackupCompleted, "2026-11-26T12:00:40Z"), requeue: 40 * time.Second},
		{name: "expires later than MaxWait", backup: expiringBackup("b", v1alpha1.BackupCompleted, "2026-12-26T12:00:00Z"), requeue: location.DefaultMaxWait},
		{name: "still running", backup: expiringBackup("b", v1alpha1.BackupInProgress, "2026-11-26T11:00:00Z")},
		{name: "no expiration", backup: expiringBackup("b", v1alpha1.BackupCompleted, "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "2026-11-26T12:00:00Z", tc.backup)
			res := reconcileOK(t, location.NewExpirer(h.cfg), "b")
			var list v1alpha1.BackupList
			if err := h.client.List(t.Context(), &list); err != nil {
				t.Fatal(err)
			}
			if deleted := len(list.Items) == 0; deleted != tc.deleted || res.RequeueAfter != tc.requeue {
				t.Fatalf("deleted %v (want %v), requeue %v (want %v)", deleted, tc.deleted, res.RequeueAfter, tc.requeue)
			}
			ev := strings.Join(h.events(), "\n")
			if tc.deleted != strings.Contains(ev, "Normal Expired deleted Backup cairn/b: it expired at 2026-11-26T11:00:00Z") {
				t.Fatalf("events %q", ev)
			}
		})
	}
}
