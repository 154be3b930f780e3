package backup_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/internal/cptest"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// A backup whose volume is still uploading stops when canceled: the work
// item becomes Canceled and the backup ends Failed, reason Canceled.
func TestCancelStopsARunningBackup(t *testing.T) {
	f := cptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); cutButNeverFinish(ctx, f.C) }()
	defer func() { cancel(); <-done }()
	f.App(t, "shop")
	f.Create(t, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "slow", Namespace: cptest.NS},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}}})
	key := client.ObjectKey{Namespace: cptest.NS, Name: "slow"}
	var b v1alpha1.Backup
	testenv.Eventually(t, "backup waiting for its volume", func() bool {
		return f.C.Get(ctx, key, &b) == nil && b.Status.Phase == v1alpha1.BackupWaitingForVolumes
	})
	patch := client.MergeFrom(b.DeepCopy())
	b.Annotations = map[string]string{v1alpha1.AnnotationCancel: time.Now().UTC().Format(time.RFC3339)}
	if err := f.C.Patch(ctx, &b, patch); err != nil {
		t.Fatal(err)
	}
	got := f.WaitBackup(t, "slow")
	ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
	if got.Status.Phase != v1alpha1.BackupFailed || ready == nil || ready.Reason != "Canceled" ||
		!strings.Contains(ready.Message, "canceled by user") {
		t.Fatalf("phase %s, ready %+v", got.Status.Phase, ready)
	}
	var items v1alpha1.VolumeBackupList
	if err := f.C.List(ctx, &items, client.InNamespace(cptest.NS), client.MatchingLabels{v1alpha1.LabelBackup: "slow"}); err != nil {
		t.Fatal(err)
	}
	if len(items.Items) != 1 || items.Items[0].Status.Phase != v1alpha1.WorkCanceled ||
		!strings.Contains(items.Items[0].Status.Message, "canceled by user") {
		t.Fatalf("work items: %+v", items.Items)
	}
	if got.Status.VolumesFailed != 1 {
		t.Fatalf("volumesFailed = %d, want 1", got.Status.VolumesFailed)
	}
}

// cutButNeverFinish is an agent that cuts every snapshot and then keeps
// uploading forever.
func cutButNeverFinish(ctx context.Context, c client.Client) {
	for ctx.Err() == nil {
		var list v1alpha1.VolumeBackupList
		if c.List(ctx, &list, client.InNamespace(cptest.NS)) == nil {
			for i := range list.Items {
				vb := &list.Items[i]
				if vb.Status.Phase != "" && vb.Status.Phase != v1alpha1.WorkPending {
					continue
				}
				vb.Status.Phase = v1alpha1.WorkInProgress
				meta.SetStatusCondition(&vb.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionSnapshotTaken,
					Status: metav1.ConditionTrue, Reason: "Cut", Message: "snapshot cut"})
				_ = c.Status().Update(ctx, vb)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}
