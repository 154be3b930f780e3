package backup_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
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
