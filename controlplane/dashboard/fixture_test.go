package dashboard_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/dashboard"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/manifest"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// env is one API server for the package; each test works in a namespace
// of its own, to which its dashboard is limited.
var env *testenv.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	var err error
	if env, err = testenv.Launch(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop the API server:", err)
	}
	os.Exit(code)
}

// Secret values the fixture stores in the cluster and in the backup; no
// page may show any of them, raw or base64-encoded.
var secretValues = []string{"pw-Zq81-location-password", "AKIA-fixture-access-key", "fixture-secret-access-key-77",
	"app-db-password-Hx42"}

// fixture is a namespace holding backups, restores, schedules and
// locations in every phase, a real repository behind the "default"
// location with one backup's manifest and resources, and a dashboard.
type fixture struct {
	ns     string
	c      client.Client
	base   string
	opener *locations.Opener
	now    time.Time
}

type option func(*dashboard.Config)

func start(t *testing.T, opts ...option) *fixture {
	t.Helper()
	ns := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	f := &fixture{ns: ns, c: env.Client, now: time.Now(),
		opener: &locations.Opener{Client: env.Client, KDF: crypto.FastKDFForTests}}
	f.create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	f.locations(t)
	f.backups(t)
	f.restores(t)
	f.schedules(t)
	cfg := dashboard.Config{BindAddress: "127.0.0.1:0", Namespace: ns, LiveInterval: 100 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	var srv *dashboard.Server
	env.StartManager(t, func(mgr ctrl.Manager) error {
		var err error
		srv, err = dashboard.New(cfg, dashboard.Deps{Cache: mgr.GetCache(), Opener: f.opener, Reviewer: mgr.GetClient()})
		if err != nil {
			return err
		}
		return mgr.Add(srv)
	})
	f.base = "http://" + srv.Addr().String()
	testenv.Eventually(t, "the dashboard serves", func() bool {
		resp, err := http.Get(f.base + "/static/style.css")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	return f
}

func (f *fixture) create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := f.c.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// createWithStatus creates obj and then writes the status it was given.
func (f *fixture) createWithStatus(t *testing.T, obj client.Object) {
	t.Helper()
	want := obj.DeepCopyObject().(client.Object)
	f.create(t, obj)
	want.SetResourceVersion(obj.GetResourceVersion())
	want.SetUID(obj.GetUID())
	if err := f.c.Status().Update(context.Background(), want); err != nil {
		t.Fatalf("status of %T %s: %v", obj, obj.GetName(), err)
	}
}

func (f *fixture) meta(name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: labels}
}

func (f *fixture) ago(d time.Duration) *metav1.Time {
	t := metav1.NewTime(f.now.Add(-d).Truncate(time.Second))
	return &t
}

func (f *fixture) locations(t *testing.T) {
	f.create(t, &corev1.Secret{ObjectMeta: f.meta("repo-password", nil), StringData: map[string]string{"password": secretValues[0]}})
	f.create(t, &corev1.Secret{ObjectMeta: f.meta("s3-creds", nil), StringData: map[string]string{
		"AWS_ACCESS_KEY_ID": secretValues[1], "AWS_SECRET_ACCESS_KEY": secretValues[2]}})
	ref := v1alpha1.SecretKeyRef{Name: "repo-password", Key: "password"}
	f.createWithStatus(t, &v1alpha1.BackupLocation{ObjectMeta: f.meta("default", nil),
		Spec: v1alpha1.BackupLocationSpec{URL: "file://" + t.TempDir() + "/repo", PasswordSecretRef: ref},
		Status: v1alpha1.BackupLocationStatus{Phase: v1alpha1.LocationAvailable, LastValidationTime: f.ago(30 * time.Second),
			LastMaintenanceTime: f.ago(5 * time.Hour)}})
	f.createWithStatus(t, &v1alpha1.BackupLocation{ObjectMeta: f.meta("offsite", nil),
		Spec: v1alpha1.BackupLocationSpec{URL: "s3://offsite-bucket/cairn", PasswordSecretRef: ref, CredentialsSecret: "s3-creds",
			S3: &v1alpha1.S3Options{Endpoint: "https://s3.offsite.example", Region: "eu-1"}},
		Status: v1alpha1.BackupLocationStatus{Phase: v1alpha1.LocationUnavailable, LastValidationTime: f.ago(time.Minute),
			Message: "BackupLocation offsite: the endpoint does not answer; check spec.s3.endpoint"}})
}

// repository writes a real resources snapshot (with a Secret in it) and a
// manifest with a log to the default location's repository.
func (f *fixture) repository(t *testing.T) (resources, manifestID string) {
	ctx := context.Background()
	var loc v1alpha1.BackupLocation
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "default"}, &loc); err != nil {
		t.Fatal(err)
	}
	r, err := f.opener.Open(ctx, &loc)
	if err != nil {
		t.Fatal(err)
	}
	obj := func(apiVersion, kind, name string, data map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
			"metadata": map[string]any{"name": name, "namespace": "shop"}}}
		for k, v := range data {
			u.Object[k] = v
		}
		return u
	}
	items := []collect.Item{
		{GroupResource: schema.GroupResource{Resource: "secrets"}, Version: "v1", Namespaced: true,
			Object: obj("v1", "Secret", "db-creds", map[string]any{"data": map[string]any{"password": base64.StdEncoding.EncodeToString([]byte(secretValues[3]))}})},
		{GroupResource: schema.GroupResource{Resource: "configmaps"}, Version: "v1", Namespaced: true,
			Object: obj("v1", "ConfigMap", "settings", map[string]any{"data": map[string]any{"mode": "fast"}})},
		{GroupResource: schema.GroupResource{Group: "apps", Resource: "deployments"}, Version: "v1", Namespaced: true,
			Object: obj("apps/v1", "Deployment", "web", nil)},
	}
	resources, err = collect.Store(ctx, r, items, collect.StoreOptions{Hostname: "test"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := manifest.Save(ctx, r, &manifest.Manifest{BackupName: "b-done", BackupNamespace: f.ns,
		Log: []string{"backup b-done: 3 API objects in snapshot " + resources, "volume shop/data: Completed via snapshot-move"}})
	if err != nil {
		t.Fatal(err)
	}
	return resources, id.String()
}

func (f *fixture) backups(t *testing.T) {
	resources, manifestID := f.repository(t)
	ready := func(status metav1.ConditionStatus, reason, msg string) []metav1.Condition {
		return []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, Message: msg, LastTransitionTime: *f.ago(0)}}
	}
	loc := func(l string) map[string]string { return map[string]string{v1alpha1.LabelLocation: l} }
	sched := map[string]string{v1alpha1.LabelLocation: "default", v1alpha1.LabelSchedule: "nightly"}
	f.create(t, &v1alpha1.Backup{ObjectMeta: f.meta("b-new", loc("default"))})
	f.createWithStatus(t, &v1alpha1.Backup{ObjectMeta: f.meta("b-collecting", loc("default")),
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupInProgress, StartTime: f.ago(5 * time.Second)}})
	f.createWithStatus(t, &v1alpha1.Backup{ObjectMeta: f.meta("b-running", loc("default")),
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupWaitingForVolumes, StartTime: f.ago(2 * time.Minute), VolumesTotal: 2}})
	f.volumeBackup(t, "b-running-data", "b-running", "data", v1alpha1.WorkStatus{Phase: v1alpha1.WorkInProgress, Agent: "agent-node-a",
		StartTime: f.ago(time.Minute), Progress: v1alpha1.Progress{BytesDone: 1 << 30, BytesTotal: 4 << 30, BytesPerSecond: 100 << 20}})
	f.volumeBackup(t, "b-running-logs", "b-running", "logs", v1alpha1.WorkStatus{Phase: v1alpha1.WorkPending})
	f.createWithStatus(t, &v1alpha1.Backup{ObjectMeta: f.meta("b-done", sched), Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"},
		Hooks: []v1alpha1.BackupResourceHook{{Name: "freeze-db", Pre: []v1alpha1.Hook{{HTTP: &v1alpha1.HTTPHook{URL: "http://db/freeze", Body: `{"token":"` + secretValues[3] + `"}`}}}}}},
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupCompleted, StartTime: f.ago(50 * time.Minute), CompletionTime: f.ago(45 * time.Minute),
			ItemsBackedUp: 3, VolumesTotal: 1, VolumesCompleted: 1, ResourcesSnapshotID: resources, ManifestID: manifestID,
			Warnings:        []string{"volume shop/data: changed-block reads unavailable, read in full"},
			Progress:        v1alpha1.Progress{BytesDone: 3 << 30, BytesTotal: 3 << 30},
			VolumeSnapshots: []v1alpha1.VolumeSnapshotRecord{{PVC: v1alpha1.ObjectRef{Namespace: "shop", Name: "data"}, Bytes: 3 << 30, Phase: v1alpha1.WorkCompleted, DataPath: v1alpha1.DataPathSnapshotMove}},
			Conditions: append(ready(metav1.ConditionTrue, "Completed", "3 API objects and 1 of 1 volumes backed up"),
				metav1.Condition{Type: v1alpha1.ConditionHooksRun, Status: metav1.ConditionTrue, Reason: "FreezeWindowClosed",
					Message: "freeze window of 1.2s closed", LastTransitionTime: *f.ago(0)})}})
	f.volumeBackup(t, "b-done-data", "b-done", "data", v1alpha1.WorkStatus{Phase: v1alpha1.WorkCompleted, Agent: "agent-node-a",
		StartTime: f.ago(49 * time.Minute), CompletionTime: f.ago(46 * time.Minute), SnapshotID: "5f3c9a0b1d2e4f60718293a4b5c6d7e8",
		Progress: v1alpha1.Progress{BytesDone: 3 << 30, BytesTotal: 3 << 30},
		Stats:    v1alpha1.WorkStats{ReadMode: v1alpha1.ReadFull, BytesRead: 3 << 30, BytesAdded: 768 << 20, BytesStored: 512 << 20}})
	for i, d := range []time.Duration{72 * time.Hour, 48 * time.Hour, 24 * time.Hour} {
		f.createWithStatus(t, &v1alpha1.Backup{ObjectMeta: f.meta(fmt.Sprintf("nightly-%d", i+1), sched),
			Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupCompleted, StartTime: f.ago(d), CompletionTime: f.ago(d - time.Duration(i+2)*time.Minute),
				Progress: v1alpha1.Progress{BytesDone: int64(i+1) << 30}}})
	}
	f.createWithStatus(t, &v1alpha1.Backup{ObjectMeta: f.meta("b-partial", loc("default")),
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupPartiallyFailed, StartTime: f.ago(70 * time.Minute), CompletionTime: f.ago(time.Hour),
			Errors: []string{"volume shop/cache was not backed up"}, Conditions: ready(metav1.ConditionFalse, "PartiallyFailed", "1 of 2 volumes")}})
	f.createWithStatus(t, &v1alpha1.Backup{ObjectMeta: f.meta("b-failed", loc("offsite")),
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupFailed, StartTime: f.ago(2 * time.Hour), CompletionTime: f.ago(2 * time.Hour),
			Conditions: ready(metav1.ConditionFalse, "LocationUnavailable", "location offsite is unavailable")}})
	f.createWithStatus(t, &v1alpha1.Backup{ObjectMeta: f.meta("b-old-failure", loc("default")),
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupFailed, StartTime: f.ago(80 * time.Hour), CompletionTime: f.ago(80 * time.Hour),
			Errors: []string{"an old failure"}}})
	f.createWithStatus(t, &v1alpha1.Backup{ObjectMeta: f.meta("b-deleting", loc("default")),
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupDeleting}})
}

func (f *fixture) volumeBackup(t *testing.T, name, backup, pvc string, st v1alpha1.WorkStatus) {
	f.createWithStatus(t, &v1alpha1.VolumeBackup{ObjectMeta: f.meta(name, map[string]string{v1alpha1.LabelBackup: backup}),
		Spec: v1alpha1.VolumeBackupSpec{NodeName: "node-a", BackupName: backup, LocationName: "default", DataPath: v1alpha1.DataPathSnapshotMove,
			Volume: v1alpha1.VolumeSource{PVC: v1alpha1.ObjectRef{Namespace: "shop", Name: pvc}}},
		Status: st})
}

func (f *fixture) restores(t *testing.T) {
	f.createWithStatus(t, &v1alpha1.Restore{ObjectMeta: f.meta("r-running", nil), Spec: v1alpha1.RestoreSpec{BackupName: "b-done"},
		Status: v1alpha1.RestoreStatus{Phase: v1alpha1.RestoreWaitingForVolumes, StartTime: f.ago(time.Minute), VolumesTotal: 1}})
	f.createWithStatus(t, &v1alpha1.VolumeRestore{ObjectMeta: f.meta("r-running-data", map[string]string{v1alpha1.LabelRestore: "r-running"}),
		Spec: v1alpha1.VolumeRestoreSpec{NodeName: "node-b", RestoreName: "r-running", LocationName: "default", SnapshotID: "5f3c9a0b",
			DataPath: v1alpha1.DataPathSnapshotMove, Target: v1alpha1.VolumeSource{PVC: v1alpha1.ObjectRef{Namespace: "shop-copy", Name: "data"}}},
		Status: v1alpha1.WorkStatus{Phase: v1alpha1.WorkInProgress, StartTime: f.ago(30 * time.Second),
			Progress: v1alpha1.Progress{BytesDone: 512 << 20, BytesTotal: 3 << 30, BytesPerSecond: 200 << 20}}})
	f.createWithStatus(t, &v1alpha1.Restore{ObjectMeta: f.meta("r-done", nil),
		Spec: v1alpha1.RestoreSpec{BackupName: "b-done", NamespaceMapping: map[string]string{"shop": "shop-copy"}},
		Status: v1alpha1.RestoreStatus{Phase: v1alpha1.RestorePartiallyFailed, StartTime: f.ago(3 * time.Hour), CompletionTime: f.ago(170 * time.Minute),
			Counts: v1alpha1.RestoreCounts{Created: 2, Failed: 1},
			Items: []v1alpha1.RestoreItem{{Resource: "deployments.apps", Namespace: "shop-copy", Name: "web", Result: v1alpha1.ItemFailed, Message: "admission webhook denied it"},
				{Resource: "configmaps", Namespace: "shop-copy", Name: "settings", Result: v1alpha1.ItemCreated}},
			Errors: []string{"deployments.apps shop-copy/web: admission webhook denied it"}}})
}

func (f *fixture) schedules(t *testing.T) {
	valid := []metav1.Condition{{Type: v1alpha1.ConditionValid, Status: metav1.ConditionTrue, Reason: "Scheduled", Message: "ok", LastTransitionTime: *f.ago(0)}}
	next := metav1.NewTime(f.now.Add(20 * time.Hour).Truncate(time.Second))
	f.createWithStatus(t, &v1alpha1.Schedule{ObjectMeta: f.meta("nightly", nil), Spec: v1alpha1.ScheduleSpec{Schedule: "@daily",
		Template: v1alpha1.BackupSpec{LocationName: "default"}, Retention: v1alpha1.Retention{Daily: 7}},
		Status: v1alpha1.ScheduleStatus{LastSuccessfulBackupTime: f.ago(45 * time.Minute), NextScheduleTime: &next,
			LastScheduleTime: f.ago(50 * time.Minute), LastBackupName: "b-done", Conditions: valid}})
	f.createWithStatus(t, &v1alpha1.Schedule{ObjectMeta: f.meta("hourly", nil), Spec: v1alpha1.ScheduleSpec{Schedule: "@hourly"},
		Status: v1alpha1.ScheduleStatus{LastSuccessfulBackupTime: f.ago(26 * time.Hour), Conditions: valid}})
	f.createWithStatus(t, &v1alpha1.Schedule{ObjectMeta: f.meta("weekly", nil), Spec: v1alpha1.ScheduleSpec{Schedule: "@weekly", Paused: true}})
}

// get fetches a page's HTML.
func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(f.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// eventually fetches path until it holds every want.
func (f *fixture) eventually(t *testing.T, path string, want ...string) string {
	t.Helper()
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body = f.get(t, path)
		if missing := absent(body, want); len(missing) == 0 {
			return body
		} else if time.Now().After(deadline) {
			t.Fatalf("%s lacks %q:\n%s", path, missing, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func absent(body string, want []string) []string {
	var out []string
	for _, w := range want {
		if !strings.Contains(body, w) {
			out = append(out, w)
		}
	}
	return out
}

// setWork changes a work item's status, as its agent would.
func (f *fixture) setWork(t *testing.T, name string, change func(*v1alpha1.WorkStatus)) {
	t.Helper()
	var vb v1alpha1.VolumeBackup
	if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: name}, &vb); err != nil {
		t.Fatal(err)
	}
	change(&vb.Status)
	if err := f.c.Status().Update(context.Background(), &vb); err != nil {
		t.Fatal(err)
	}
}
