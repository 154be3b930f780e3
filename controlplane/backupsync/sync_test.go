package backupsync_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/cairnbackup/cairn/chunkstore/blob/fs"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/backupsync"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/manifest"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

const (
	ns       = "cairn"
	password = "shared repository password"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// sharedRepo is a repository in a directory, as another cluster left it.
func sharedRepo(t *testing.T) (string, *repo.Repository) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	store, err := fs.Open(dir, fs.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(context.Background(), store, []byte(password), repo.Options{KDF: crypto.FastKDFForTests})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return dir, r
}

func save(t *testing.T, r *repo.Repository, name string, created time.Time, mut func(*manifest.Manifest)) core.ID {
	t.Helper()
	exp := metav1.NewTime(t0.Add(720 * time.Hour))
	m := &manifest.Manifest{BackupName: name, BackupNamespace: "cairn-a", ClusterID: "cluster-a", Created: created,
		Spec:   v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}, LocationName: "their-name"},
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupCompleted, ItemsBackedUp: 42, Expiration: &exp}}
	if mut != nil {
		mut(m)
	}
	id, err := manifest.Save(context.Background(), r, m)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func availableLocation(dir string) *v1alpha1.BackupLocation {
	return &v1alpha1.BackupLocation{
		ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: ns},
		Spec: v1alpha1.BackupLocationSpec{URL: "file://" + dir, AccessMode: v1alpha1.AccessReadOnly,
			PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "pw", Key: "password"}},
		Status: v1alpha1.BackupLocationStatus{Phase: v1alpha1.LocationAvailable},
	}
}

func pwSecret() *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: ns},
		Data: map[string][]byte{"password": []byte(password)}}
}

type harness struct {
	t      *testing.T
	client client.Client
	rec    *events.FakeRecorder
	clock  *fakeClock
	r      *backupsync.Reconciler
}

func newHarness(t *testing.T, reader *interceptor.Funcs, objs ...client.Object) *harness {
	c := fake.NewClientBuilder().WithScheme(testenv.Scheme()).
		WithStatusSubresource(&v1alpha1.BackupLocation{}, &v1alpha1.Backup{}).WithObjects(objs...).Build()
	var apiReader client.Reader = c
	if reader != nil {
		apiReader = interceptor.NewClient(c, *reader)
	}
	h := &harness{t: t, client: c, rec: events.NewFakeRecorder(100), clock: &fakeClock{t: t0}}
	h.r = backupsync.New(backupsync.Config{Client: c, APIReader: apiReader, Recorder: h.rec,
		Clock: h.clock, Opener: &locations.Opener{Client: c}})
	return h
}

func (h *harness) sync() ctrl.Result {
	h.t.Helper()
	res, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "shared"}})
	if err != nil {
		h.t.Fatalf("Reconcile: %v", err)
	}
	return res
}

func (h *harness) backups() map[string]v1alpha1.Backup {
	h.t.Helper()
	var list v1alpha1.BackupList
	if err := h.client.List(context.Background(), &list); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]v1alpha1.Backup{}
	for _, b := range list.Items {
		out[b.Name] = b
	}
	return out
}

func (h *harness) events() string {
	var out []string
	for {
		select {
		case e := <-h.rec.Events:
			out = append(out, e)
		default:
			return strings.Join(out, "\n")
		}
	}
}

func TestImportsManifests(t *testing.T) {
	dir, r := sharedRepo(t)
	save(t, r, "nightly-1", t0.Add(-time.Hour), func(m *manifest.Manifest) { m.Status.ItemsBackedUp = 1 })
	id := save(t, r, "nightly-1", t0, nil) // saved again later: the newest wins
	save(t, r, "partial", t0, func(m *manifest.Manifest) { m.Status.Phase = v1alpha1.BackupPartiallyFailed })
	h := newHarness(t, nil, availableLocation(dir), pwSecret())
	res := h.sync()
	got := h.backups()
	b, ok := got["nightly-1"]
	if !ok || len(got) != 2 {
		t.Fatalf("Backups: %v", got)
	}
	if b.Annotations[v1alpha1.AnnotationSynced] != "shared" || b.Labels[v1alpha1.LabelLocation] != "shared" ||
		b.Spec.LocationName != "shared" || b.Spec.IncludedNamespaces[0] != "shop" {
		t.Fatalf("imported Backup: %+v", b.ObjectMeta)
	}
	if b.Status.Phase != v1alpha1.BackupCompleted || b.Status.ItemsBackedUp != 42 || b.Status.ManifestID != id.String() {
		t.Fatalf("imported status: %+v", b.Status)
	}
	if got["partial"].Status.Phase != v1alpha1.BackupPartiallyFailed {
		t.Fatalf("partial: %+v", got["partial"].Status)
	}
	if ev := h.events(); !strings.Contains(ev, "Normal BackupsImported imported 2 Backups from the repository: nightly-1, partial") {
		t.Fatalf("events: %s", ev)
	}
	var loc v1alpha1.BackupLocation
	_ = h.client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shared"}, &loc)
	if loc.Status.LastSyncTime == nil || res.RequeueAfter != backupsync.DefaultInterval {
		t.Fatalf("lastSyncTime %v, requeue %v", loc.Status.LastSyncTime, res.RequeueAfter)
	}
	// Within the interval nothing happens.
	h.clock.Add(10 * time.Second)
	if res := h.sync(); res.RequeueAfter != backupsync.DefaultInterval-10*time.Second {
		t.Fatalf("requeue %v", res.RequeueAfter)
	}
	// The next sync finds nothing new.
	h.clock.Add(time.Minute)
	h.sync()
	if ev := h.events(); ev != "" {
		t.Fatalf("second sync: %s", ev)
	}
}

func TestSkips(t *testing.T) {
	cases := []struct {
		name    string
		mut     func(*manifest.Manifest)
		loc     func(*v1alpha1.BackupLocation)
		objs    []client.Object
		event   string
		imports bool
	}{
		{name: "expired", mut: func(m *manifest.Manifest) {
			e := metav1.NewTime(t0.Add(-time.Minute))
			m.Status.Expiration = &e
		}},
		{name: "invalid name", mut: func(m *manifest.Manifest) { m.BackupName = "Not_A_Name" }, event: "Warning ManifestSkipped"},
		{name: "location unavailable", loc: func(l *v1alpha1.BackupLocation) { l.Status.Phase = v1alpha1.LocationUnavailable }},
		{name: "synced recently", loc: func(l *v1alpha1.BackupLocation) {
			s := metav1.NewTime(t0.Add(-10 * time.Second))
			l.Status.LastSyncTime = &s
		}},
		{name: "exists here as another backup", event: "Warning NameClash",
			objs: []client.Object{&v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: ns},
				Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupCompleted, ManifestID: strings.Repeat("ab", 32)}}}},
		{name: "exists here in progress",
			objs: []client.Object{&v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: ns}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, r := sharedRepo(t)
			save(t, r, "b", t0, tc.mut)
			loc := availableLocation(dir)
			if tc.loc != nil {
				tc.loc(loc)
			}
			h := newHarness(t, nil, append(tc.objs, loc, pwSecret())...)
			h.sync()
			if b, ok := h.backups()["b"]; ok && b.Annotations[v1alpha1.AnnotationSynced] != "" {
				t.Fatal("imported")
			}
			ev := h.events()
			if !strings.Contains(ev, tc.event) || (tc.event == "" && ev != "") {
				t.Fatalf("events %q, want %q", ev, tc.event)
			}
			h.clock.Add(2 * backupsync.DefaultInterval)
			h.sync()
			if ev := h.events(); strings.Contains(ev, "Warning") {
				t.Fatalf("warned twice: %q", ev)
			}
		})
	}
}

// A Backup whose deletion removed its manifest after the sync listed the
// manifests is not resurrected: absence is confirmed before the manifest
// is checked again.
func TestDeletedBackupIsNotResurrected(t *testing.T) {
	dir, r := sharedRepo(t)
	id := save(t, r, "gone", t0, nil)
	deleteManifest := &interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, o client.Object, opts ...client.GetOption) error {
		if _, ok := o.(*v1alpha1.Backup); ok {
			if err := manifest.Delete(ctx, r, id); err != nil { // the finalizer ran meanwhile
				t.Fatal(err)
			}
		}
		return c.Get(ctx, key, o, opts...)
	}}
	h := newHarness(t, deleteManifest, availableLocation(dir), pwSecret())
	h.sync()
	if got := h.backups(); len(got) != 0 {
		t.Fatalf("resurrected: %v", got)
	}
}

// An import interrupted between create and status write is finished.
func TestFinishesInterruptedImport(t *testing.T) {
	dir, r := sharedRepo(t)
	save(t, r, "half", t0, nil)
	half := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "half", Namespace: ns,
		Annotations: map[string]string{v1alpha1.AnnotationSynced: "shared"}}}
	h := newHarness(t, nil, availableLocation(dir), pwSecret(), half)
	h.sync()
	if p := h.backups()["half"].Status.Phase; p != v1alpha1.BackupCompleted {
		t.Fatalf("phase %q", p)
	}
}

func TestUnreadableManifestWarnsOnce(t *testing.T) {
	dir, r := sharedRepo(t)
	save(t, r, "ok", t0, nil)
	if _, err := r.SaveJSON(context.Background(), repo.KindManifest, map[string]any{"version": 99, "backupName": "future"}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil, availableLocation(dir), pwSecret())
	h.sync()
	if _, ok := h.backups()["ok"]; !ok {
		t.Fatal("a bad manifest hid a good one")
	}
	if ev := h.events(); !strings.Contains(ev, "Warning ManifestUnreadable") || !strings.Contains(ev, "upgrade cairn") {
		t.Fatalf("events %q", ev)
	}
}
