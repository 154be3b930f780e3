package location_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/location"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

const (
	ns       = "cairn"
	password = "correct horse battery staple"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

type harness struct {
	t      *testing.T
	client client.Client
	clock  *fakeClock
	rec    *events.FakeRecorder
	cfg    location.Config
}

func newHarness(t *testing.T, now string, objs ...client.Object) *harness {
	c := fake.NewClientBuilder().WithScheme(testenv.Scheme()).
		WithStatusSubresource(&v1alpha1.BackupLocation{}, &v1alpha1.Backup{}).WithObjects(objs...).Build()
	h := &harness{t: t, client: c, clock: &fakeClock{t: at(now)}, rec: events.NewFakeRecorder(100)}
	h.cfg = location.Config{Client: c, Recorder: h.rec, Clock: h.clock, ValidationTimeout: 20 * time.Second,
		Opener: &locations.Opener{Client: c, KDF: crypto.FastKDFForTests}}
	return h
}

func fileLocation(name, dir string) *v1alpha1.BackupLocation {
	return &v1alpha1.BackupLocation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 1,
			CreationTimestamp: metav1.NewTime(at("2026-11-01T00:00:00Z"))},
		Spec: v1alpha1.BackupLocationSpec{URL: "file://" + filepath.ToSlash(dir), AccessMode: v1alpha1.AccessReadWrite,
			PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "pw", Key: "password"}},
	}
}

func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func pwSecret(pw string) *corev1.Secret { return secret("pw", map[string]string{"password": pw}) }

func (h *harness) location(name string) *v1alpha1.BackupLocation {
	h.t.Helper()
	var l v1alpha1.BackupLocation
	if err := h.client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &l); err != nil {
		h.t.Fatal(err)
	}
	return &l
}

func (h *harness) events() []string {
	var out []string
	for {
		select {
		case e := <-h.rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func request(name string) ctrl.Request {
	return ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}}
}

type reconciler interface {
	Reconcile(context.Context, ctrl.Request) (ctrl.Result, error)
}

func reconcileOK(t *testing.T, r reconciler, name string) ctrl.Result {
	t.Helper()
	res, err := r.Reconcile(context.Background(), request(name))
	if err != nil {
		t.Fatalf("Reconcile %s: %v", name, err)
	}
	return res
}
