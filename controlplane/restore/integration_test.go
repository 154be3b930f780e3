package restore_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/internal/cptest"
)

// Back up a namespace, then restore it twice at once into two mapped
// namespaces: objects come back with their data, the volume is restored
// from the backup's snapshot through a VolumeRestore, and the backed-up PV
// is not reused.
func TestBackupThenConcurrentRestoresIntoMappedNamespaces(t *testing.T) {
	f := cptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ag := &cptest.Agent{}
	ag.Run(ctx, f.C)
	f.App(t, "shop")
	f.Create(t, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "shop-1", Namespace: cptest.NS},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}}})
	b := f.WaitBackup(t, "shop-1")
	if b.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("backup: %s %v", b.Status.Phase, b.Status.Errors)
	}
	for _, target := range []string{"copy-a", "copy-b"} {
		f.Create(t, &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Name: "to-" + target, Namespace: cptest.NS},
			Spec: v1alpha1.RestoreSpec{BackupName: "shop-1", NamespaceMapping: map[string]string{"shop": target}}})
	}
	for _, target := range []string{"copy-a", "copy-b"} {
		rs := f.WaitRestore(t, "to-"+target)
		if rs.Status.Phase != v1alpha1.RestoreCompleted || rs.Status.Counts.Created == 0 || rs.Status.VolumesCompleted != 1 {
			t.Fatalf("restore into %s: %s counts %+v volumes %d errors %v", target, rs.Status.Phase, rs.Status.Counts, rs.Status.VolumesCompleted, rs.Status.Errors)
		}
		assertRestored(t, f, target)
		if got := ag.RestoredSnapshots()[target+"/data"]; got != b.Status.VolumeSnapshots[0].SnapshotID {
			t.Fatalf("volume %s/data restored from %q, want the backup's snapshot %q", target, got, b.Status.VolumeSnapshots[0].SnapshotID)
		}
	}
}

func assertRestored(t *testing.T, f *cptest.Fixture, ns string) {
	t.Helper()
	ctx := context.Background()
	var cm corev1.ConfigMap
	if err := f.C.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, &cm); err != nil || cm.Data["k"] != "v" {
		t.Fatalf("configmap in %s: %v %v", ns, cm.Data, err)
	}
	var sec corev1.Secret
	if err := f.C.Get(ctx, client.ObjectKey{Namespace: ns, Name: "creds"}, &sec); err != nil || string(sec.Data["p"]) != "x" {
		t.Fatalf("secret in %s: %v", ns, err)
	}
	var pvc corev1.PersistentVolumeClaim
	if err := f.C.Get(ctx, client.ObjectKey{Namespace: ns, Name: "data"}, &pvc); err != nil {
		t.Fatalf("pvc in %s: %v", ns, err)
	}
	if pvc.Spec.VolumeName != "" {
		t.Fatalf("restored PVC still points at the old volume %q", pvc.Spec.VolumeName)
	}
	var pod corev1.Pod
	if err := f.C.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, &pod); err != nil {
		t.Fatalf("pod in %s: %v", ns, err)
	}
	if pod.Spec.NodeName != "" {
		t.Fatalf("restored pod keeps nodeName %q", pod.Spec.NodeName)
	}
}

func TestRestoreOfAMissingBackupSaysWhatToDo(t *testing.T) {
	f := cptest.Start(t)
	f.Create(t, &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: cptest.NS},
		Spec: v1alpha1.RestoreSpec{BackupName: "gone"}})
	rs := f.WaitRestore(t, "r")
	cond := meta.FindStatusCondition(rs.Status.Conditions, v1alpha1.ConditionReady)
	if rs.Status.Phase != v1alpha1.RestoreFailed || cond == nil || !strings.Contains(cond.Message, `backup "gone" does not exist`) ||
		!strings.Contains(cond.Message, "kubectl get backups") {
		t.Fatalf("phase %s condition %+v", rs.Status.Phase, cond)
	}
}

// A second cluster sharing the location imports the backup through the
// sync controller and restores it.
func TestRestoreInASecondClusterThroughASharedLocation(t *testing.T) {
	dir := t.TempDir()
	a := cptest.StartShared(t, dir, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agA := &cptest.Agent{}
	agA.Run(ctx, a.C)
	a.App(t, "shop")
	a.Create(t, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "shop-x", Namespace: cptest.NS},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}}})
	if b := a.WaitBackup(t, "shop-x"); b.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("backup in cluster A: %s %v", b.Status.Phase, b.Status.Errors)
	}
	b := cptest.StartShared(t, dir, true)
	agB := &cptest.Agent{}
	agB.Run(ctx, b.C)
	b.Node(t, "node-b")
	imported := b.WaitBackup(t, "shop-x")
	if imported.Annotations[v1alpha1.AnnotationSynced] == "" {
		t.Fatalf("backup in cluster B was not imported by the sync controller: %+v", imported.ObjectMeta)
	}
	b.Create(t, &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Name: "from-a", Namespace: cptest.NS},
		Spec: v1alpha1.RestoreSpec{BackupName: "shop-x"}})
	rs := b.WaitRestore(t, "from-a")
	if rs.Status.Phase != v1alpha1.RestoreCompleted || rs.Status.VolumesCompleted != 1 {
		t.Fatalf("restore in cluster B: %s %+v %v", rs.Status.Phase, rs.Status.Counts, rs.Status.Errors)
	}
	assertRestored(t, b, "shop")
}
