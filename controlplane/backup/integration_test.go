package backup_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/internal/cptest"
	"github.com/cairnbackup/cairn/controlplane/manifest"
)

func TestBackupOfANamespaceWithHooksAndAVolume(t *testing.T) {
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
		t.Fatalf("phase %s, errors %v, warnings %v", b.Status.Phase, b.Status.Errors, b.Status.Warnings)
	}
	if b.Status.VolumesTotal != 1 || b.Status.VolumesCompleted != 1 || b.Status.VolumeSnapshots[0].SnapshotID == "" {
		t.Fatalf("volumes: %+v", b.Status)
	}
	if b.Status.Progress.BytesDone != 1000 {
		t.Fatalf("progress not aggregated: %+v", b.Status.Progress)
	}
	assertFreezeOrder(t, f, ag)
	assertStored(t, f, b)
}

func assertFreezeOrder(t *testing.T, f *cptest.Fixture, ag *cptest.Agent) {
	t.Helper()
	calls := f.Exec.Calls()
	if len(calls) != 2 || !strings.Contains(strings.Join(calls[0].Command, " "), "--freeze") {
		t.Fatalf("hook calls: %+v, want freeze then unfreeze", calls)
	}
	ag.Lock()
	defer ag.Unlock()
	for _, cut := range ag.Cut {
		if !calls[0].End.Before(cut) || !cut.Before(calls[1].Start) {
			t.Fatalf("freeze ended %v, snapshot cut %v, thaw started %v: snapshot not inside the freeze window", calls[0].End, cut, calls[1].Start)
		}
	}
}

func assertStored(t *testing.T, f *cptest.Fixture, b *v1alpha1.Backup) {
	t.Helper()
	ctx := context.Background()
	var loc v1alpha1.BackupLocation
	if err := f.C.Get(ctx, client.ObjectKey{Namespace: cptest.NS, Name: "default"}, &loc); err != nil {
		t.Fatal(err)
	}
	r, err := f.Opener.Open(ctx, &loc)
	if err != nil {
		t.Fatal(err)
	}
	items, err := collect.Load(ctx, r, b.Status.ResourcesSnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, it := range items {
		kinds[it.GroupResource.String()+"/"+it.Object.GetName()] = true
	}
	for _, want := range []string{"configmaps/settings", "secrets/creds", "persistentvolumeclaims/data", "namespaces/shop", "persistentvolumes/shop-pv"} {
		if !kinds[want] {
			t.Errorf("stored objects lack %s (have %v)", want, kinds)
		}
	}
	all, err := manifest.List(ctx, r)
	if err != nil || len(all) == 0 || all[0].BackupName != b.Name {
		t.Fatalf("manifest: %v %v", all, err)
	}
}

func TestBackupErrorsNameTheFix(t *testing.T) {
	f := cptest.Start(t)
	cases := []struct {
		name string
		spec v1alpha1.BackupSpec
		want string
	}{
		{"missing namespace", v1alpha1.BackupSpec{IncludedNamespaces: []string{"nope"}}, "nope"},
		{"missing location", v1alpha1.BackupSpec{LocationName: "elsewhere"}, `"elsewhere" does not exist`},
		{"both selectors", v1alpha1.BackupSpec{LabelSelector: &metav1.LabelSelector{}, OrLabelSelectors: []*metav1.LabelSelector{{}}}, "exclusive"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "bad-" + string(rune('a'+i))
			f.Create(t, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cptest.NS}, Spec: tc.spec})
			b := f.WaitBackup(t, name)
			cond := meta.FindStatusCondition(b.Status.Conditions, v1alpha1.ConditionReady)
			if b.Status.Phase != v1alpha1.BackupFailed || cond == nil || !strings.Contains(cond.Message, tc.want) {
				t.Fatalf("phase %s, condition %+v; want Failed mentioning %q", b.Status.Phase, cond, tc.want)
			}
			if strings.Contains(cond.Message, "s3cret-location-password") {
				t.Fatal("a condition leaks the repository password")
			}
		})
	}
}

// Two backups run at once; one also holds a volume no CSI driver serves,
// which cannot be snapshotted: that backup ends PartiallyFailed and says
// how to protect the volume.
func TestConcurrentBackupsAndAVolumeThatCannotBeSnapshotted(t *testing.T) {
	f := cptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ag := &cptest.Agent{}
	ag.Run(ctx, f.C)
	f.App(t, "one")
	f.App(t, "two")
	f.Create(t, &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "legacy-pv"},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/legacy"}}}})
	f.Create(t, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "two"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeName: "legacy-pv",
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}})
	for _, n := range []string{"one", "two"} {
		f.Create(t, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "b-" + n, Namespace: cptest.NS},
			Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{n}}})
	}
	one, two := f.WaitBackup(t, "b-one"), f.WaitBackup(t, "b-two")
	if one.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("b-one: %s %v", one.Status.Phase, one.Status.Errors)
	}
	if two.Status.Phase != v1alpha1.BackupPartiallyFailed || two.Status.VolumesCompleted != 1 {
		t.Fatalf("b-two: %s, %d volumes completed; want PartiallyFailed with the CSI volume done", two.Status.Phase, two.Status.VolumesCompleted)
	}
	if !strings.Contains(strings.Join(two.Status.Warnings, "\n"), "not provisioned by a CSI driver") {
		t.Fatalf("b-two warnings %v do not explain the legacy volume", two.Status.Warnings)
	}
}
