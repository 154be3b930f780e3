package backupsync_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/backupsync"
	"github.com/cairnbackup/cairn/controlplane/location"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/manifest"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// cluster starts an API server with the location controllers and the sync
// controller, syncing every 200 ms.
func cluster(t *testing.T) client.Client {
	t.Helper()
	env := testenv.Start(t)
	env.StartManager(t, func(mgr ctrl.Manager) error {
		opener := &locations.Opener{Client: mgr.GetAPIReader(), KDF: crypto.FastKDFForTests}
		if err := location.SetupWithManager(mgr, location.Config{Opener: opener}); err != nil {
			return err
		}
		return backupsync.New(backupsync.Config{Opener: opener, Interval: 200 * time.Millisecond}).SetupWithManager(mgr)
	})
	for _, o := range []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, pwSecret()} {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	return env.Client
}

// Two API servers share one repository: a backup whose manifest cluster A
// wrote appears in cluster B as a Completed Backup; cluster A, which has
// the Backup, gets no copy; and once the backup is deleted with its
// manifest, B does not bring it back.
func TestIntegrationTwoClustersShareALocation(t *testing.T) {
	dir, r := sharedRepo(t)
	a, b := cluster(t), cluster(t)
	ctx := context.Background()

	exp := metav1.NewTime(time.Now().Add(720 * time.Hour))
	m := &manifest.Manifest{BackupName: "nightly-20261126030000", BackupNamespace: ns, ClusterID: "a",
		Spec:   v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}},
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupCompleted, ItemsBackedUp: 17, Expiration: &exp}}
	// Cluster A made the backup: its Backup exists there.
	mine := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: m.BackupName, Namespace: ns}}
	if err := a.Create(ctx, mine); err != nil {
		t.Fatal(err)
	}
	id, err := manifest.Save(ctx, r, m)
	if err != nil {
		t.Fatal(err)
	}
	locA := availableLocation(dir)
	locA.Status = v1alpha1.BackupLocationStatus{}
	locA.Spec.AccessMode = v1alpha1.AccessReadWrite
	locB := locA.DeepCopy()
	locB.Spec.AccessMode = v1alpha1.AccessReadOnly
	if err := a.Create(ctx, locA); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, locB); err != nil {
		t.Fatal(err)
	}

	key := client.ObjectKey{Namespace: ns, Name: m.BackupName}
	var got v1alpha1.Backup
	testenv.Eventually(t, "the Backup imported into cluster B", func() bool {
		return b.Get(ctx, key, &got) == nil && got.Status.Phase == v1alpha1.BackupCompleted
	})
	if got.Annotations[v1alpha1.AnnotationSynced] != "shared" || got.Status.ManifestID != id.String() ||
		got.Status.ItemsBackedUp != 17 || got.Spec.LocationName != "shared" {
		t.Fatalf("imported Backup: %+v / %+v", got.ObjectMeta, got.Status)
	}
	testenv.Eventually(t, "cluster A to have synced", func() bool {
		var l v1alpha1.BackupLocation
		return a.Get(ctx, client.ObjectKeyFromObject(locA), &l) == nil && l.Status.LastSyncTime != nil
	})
	if err := a.Get(ctx, key, mine); err != nil || mine.Annotations[v1alpha1.AnnotationSynced] != "" {
		t.Fatalf("cluster A's own Backup was replaced or touched: %v %v", err, mine.Annotations)
	}

	// Delete the backup as the backup controller's finalizer would: the
	// manifest first, then the object. It must stay deleted in B.
	if err := manifest.Delete(ctx, r, id); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, &got); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // several sync intervals
	if err := b.Get(ctx, key, &got); err == nil {
		t.Fatal("the deleted Backup came back")
	}
}
