package nodeagent

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

func completedBackup(snapshot, parent string, at time.Time) *v1alpha1.VolumeBackup {
	vb := &v1alpha1.VolumeBackup{}
	vb.Spec.ParentSnapshotID = parent
	vb.Status.SnapshotID = snapshot
	t := metav1.NewTime(at)
	vb.Status.CompletionTime = &t
	return vb
}

// A full backup and the incremental built on it may complete within the
// same second: the parent link still says which came after.
func TestNewerOrdersBackupsOfOneSecond(t *testing.T) {
	sec := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	full := completedBackup("s1", "", sec)
	incr := completedBackup("s2", "s1", sec)
	later := completedBackup("s3", "", sec.Add(time.Second))
	for _, tc := range []struct {
		name string
		a, b *v1alpha1.VolumeBackup
		want bool
	}{
		{"incremental after its parent, same second", incr, full, true},
		{"parent before its incremental, same second", full, incr, false},
		{"a later completion", later, full, true},
		{"an earlier completion", full, later, false},
		{"unrelated, same second", completedBackup("s4", "", sec), full, false},
	} {
		if got := newer(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: newer = %v, want %v", tc.name, got, tc.want)
		}
	}
}
