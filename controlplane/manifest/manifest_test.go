package manifest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/manifest"
)

func newRepo(t *testing.T) *repo.Repository {
	t.Helper()
	r, err := repo.Init(context.Background(), mem.New(), []byte("pw"), repo.Options{KDF: crypto.FastKDFForTests})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSaveLoadListDelete(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	created := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m := &manifest.Manifest{BackupName: "nightly-1", BackupNamespace: "cairn", ClusterID: "c1", Created: created,
		Spec:   v1alpha1.BackupSpec{IncludedNamespaces: []string{"app"}},
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupCompleted, ItemsBackedUp: 7},
		Log:    []string{"collected 7 objects"}}
	id, err := manifest.Save(ctx, r, m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := manifest.Load(ctx, r, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != manifest.Version || got.BackupName != "nightly-1" || got.Status.ItemsBackedUp != 7 ||
		!got.Created.Equal(created) || len(got.Log) != 1 || got.Spec.IncludedNamespaces[0] != "app" {
		t.Fatalf("round trip: %+v", got)
	}
	all, err := manifest.List(ctx, r)
	if err != nil || len(all) != 1 || all[0].ID != id {
		t.Fatalf("List = %v, %v", all, err)
	}
	if err := manifest.Delete(ctx, r, id); err != nil {
		t.Fatal(err)
	}
	if err := manifest.Delete(ctx, r, id); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if all, err := manifest.List(ctx, r); err != nil || len(all) != 0 {
		t.Fatalf("after delete: %v, %v", all, err)
	}
}

func TestSaveNeedsName(t *testing.T) {
	if _, err := manifest.Save(context.Background(), newRepo(t), &manifest.Manifest{}); err == nil {
		t.Fatal("saved a manifest without a backup name")
	}
}

// A manifest from a newer cairn is reported, and does not hide the others.
func TestListSkipsUnreadable(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	if _, err := manifest.Save(ctx, r, &manifest.Manifest{BackupName: "ok"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SaveJSON(ctx, repo.KindManifest, map[string]any{"version": 99, "backupName": "future"}); err != nil {
		t.Fatal(err)
	}
	all, err := manifest.List(ctx, r)
	if !errors.Is(err, manifest.ErrVersion) {
		t.Fatalf("err = %v, want ErrVersion", err)
	}
	if len(all) != 1 || all[0].BackupName != "ok" {
		t.Fatalf("readable manifests = %+v", all)
	}
}

func TestNewest(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, name := range []string{"a", "a", "b"} {
		m := &manifest.Manifest{BackupName: name, Created: t0.Add(time.Duration(i) * time.Hour), Log: []string{name}}
		if _, err := manifest.Save(ctx, r, m); err != nil {
			t.Fatal(err)
		}
	}
	all, err := manifest.List(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	newest := manifest.Newest(all)
	if len(newest) != 2 || !newest["a"].Created.Equal(t0.Add(time.Hour)) || newest["b"].BackupName != "b" {
		t.Fatalf("Newest = %+v", newest)
	}
}

func TestDeleteBackupRemovesEveryManifestOfIt(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	for _, name := range []string{"a", "a", "b"} {
		if _, err := manifest.Save(ctx, r, &manifest.Manifest{BackupName: name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := manifest.DeleteBackup(ctx, r, "a"); err != nil {
		t.Fatal(err)
	}
	all, err := manifest.List(ctx, r)
	if err != nil || len(all) != 1 || all[0].BackupName != "b" {
		t.Fatalf("left: %+v, %v", all, err)
	}
}
