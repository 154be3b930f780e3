// Package cptest runs cairn's control plane against a real API server for
// integration tests: the backup and restore controllers in a manager, a
// BackupLocation on a local directory, a fake hook executor, and a
// stand-in node agent that completes work items.
package cptest

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/backup"
	"github.com/cairnbackup/cairn/controlplane/backupsync"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/hooks"
	"github.com/cairnbackup/cairn/controlplane/hooks/hookstest"
	"github.com/cairnbackup/cairn/controlplane/location"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/restore"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// NS is the namespace cairn's objects live in during tests.
const NS = "cairn"

const ns = NS

// Fixture is a running API server with cairn's controllers, a location
// and a fake hook executor.
type Fixture struct {
	Env    *testenv.Env
	C      client.Client
	Opener *locations.Opener
	Exec   *hookstest.Exec
	Dir    string
}

// Start runs the backup and restore controllers on a fresh API server.
func Start(t *testing.T) *Fixture { return StartShared(t, t.TempDir(), false) }

// StartShared starts a fixture whose location is the repository in dir,
// which another fixture (another cluster) may share. With sync, the sync
// controller imports the Backups it finds there every 200ms.
func StartShared(t *testing.T, dir string, withSync bool) *Fixture {
	env := testenv.Start(t)
	f := &Fixture{Env: env, C: env.Client, Opener: &locations.Opener{Client: env.Client, KDF: crypto.FastKDFForTests},
		Exec: &hookstest.Exec{}, Dir: dir}
	env.StartManager(t, func(mgr ctrl.Manager) error { return f.setup(mgr, withSync) })
	f.Create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	f.Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "repo-password", Namespace: ns},
		Data: map[string][]byte{"password": []byte("s3cret-location-password")}})
	f.Create(t, &v1alpha1.BackupLocation{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns},
		Spec: v1alpha1.BackupLocationSpec{URL: "file://" + f.Dir + "/repo",
			PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "repo-password", Key: "password"}}})
	return f
}

// setup adds the backup and restore controllers, and with sync the location
// and sync controllers, to mgr.
func (f *Fixture) setup(mgr ctrl.Manager, withSync bool) error {
	disc, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	r := backup.New(backup.Deps{Client: mgr.GetClient(), Opener: f.Opener,
		Collector: backup.ClusterCollector{Deps: collect.Deps{Discovery: disc, Dynamic: dyn}},
		Freezer:   backup.HookFreezer{Client: mgr.GetClient(), Runner: &hooks.Runner{Exec: f.Exec}},
		Recorder:  mgr.GetEventRecorder("backup")},
		backup.Config{PollInterval: 200 * time.Millisecond, SnapshotTimeout: 20 * time.Second})
	if err := r.SetupWithManager(mgr); err != nil {
		return err
	}
	rr := restore.New(restore.Deps{Client: mgr.GetClient(), Dynamic: dyn, Opener: f.Opener,
		Hooks: &hooks.Runner{Exec: f.Exec}, Recorder: mgr.GetEventRecorder("restore")},
		restore.Config{PollInterval: 200 * time.Millisecond})
	if err := rr.SetupWithManager(mgr); err != nil {
		return err
	}
	if !withSync {
		return nil
	}
	if err := location.SetupWithManager(mgr, location.Config{Opener: f.Opener}); err != nil {
		return err
	}
	return backupsync.New(backupsync.Config{Opener: f.Opener, Interval: 200 * time.Millisecond}).SetupWithManager(mgr)
}

// Create creates obj or fails the test.
func (f *Fixture) Create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := f.C.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// Node creates a ready node, once.
func (f *Fixture) Node(t *testing.T, name string) {
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := f.C.Create(ctx, node); err == nil {
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		if err := f.C.Status().Update(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
}

// App creates a namespace with a ConfigMap, a Secret, a bound CSI volume
// and a pod on node-a that mounts it and declares freeze hooks.
func (f *Fixture) App(t *testing.T, name string) {
	f.Create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	f.Create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: name}, Data: map[string]string{"k": "v"}})
	f.Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: name}, StringData: map[string]string{"p": "x"}})
	f.Node(t, "node-a")
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name + "-pv"},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "hostpath.csi.cairn.dev", VolumeHandle: "vol-" + name}},
			ClaimRef:               &corev1.ObjectReference{Namespace: name, Name: "data"}}}
	f.Create(t, pv)
	f.Create(t, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: name},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			VolumeName: pv.Name, Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}})
	f.Create(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: name, Annotations: map[string]string{
		"pre.hook.backup.cairn.dev/command": `["fsfreeze","--freeze","/data"]`, "post.hook.backup.cairn.dev/command": `["fsfreeze","--unfreeze","/data"]`}},
		Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "db", Image: "db"}},
			Volumes: []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}}})
}

// Agent stands in for the node agents: it cuts the "snapshot" of every
// work item, records when, and completes it.
type Agent struct {
	mu       sync.Mutex
	Cut      map[string]time.Time
	Restored map[string]string
}

// Run starts the stand-in agent until ctx ends.
func (a *Agent) Run(ctx context.Context, c client.Client) {
	a.Cut = map[string]time.Time{}
	go func() {
		for ctx.Err() == nil {
			var list v1alpha1.VolumeBackupList
			if err := c.List(ctx, &list, client.InNamespace(ns)); err == nil {
				for i := range list.Items {
					a.step(ctx, c, &list.Items[i])
				}
			}
			var vrs v1alpha1.VolumeRestoreList
			if err := c.List(ctx, &vrs, client.InNamespace(ns)); err == nil {
				for i := range vrs.Items {
					a.restore(ctx, c, &vrs.Items[i])
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}

func (a *Agent) step(ctx context.Context, c client.Client, vb *v1alpha1.VolumeBackup) {
	switch vb.Status.Phase {
	case "", v1alpha1.WorkPending:
		a.mu.Lock()
		a.Cut[vb.Name] = time.Now()
		a.mu.Unlock()
		vb.Status.Phase, vb.Status.Agent = v1alpha1.WorkInProgress, "agent-"+vb.Spec.NodeName
		meta.SetStatusCondition(&vb.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionSnapshotTaken,
			Status: metav1.ConditionTrue, Reason: "Cut", Message: "snapshot cut"})
	case v1alpha1.WorkInProgress:
		vb.Status.Phase, vb.Status.SnapshotID = v1alpha1.WorkCompleted, core.RandomID().String()
		vb.Status.Progress = v1alpha1.Progress{BytesDone: 1000, BytesTotal: 1000}
		now := metav1.Now()
		vb.Status.CompletionTime = &now
	default:
		return
	}
	_ = c.Status().Update(ctx, vb)
}

// WaitBackup waits until the backup has finished.
func (f *Fixture) WaitBackup(t *testing.T, name string) *v1alpha1.Backup {
	t.Helper()
	var b v1alpha1.Backup
	f.waitDone(t, name, &b, func() bool { return b.Status.Phase.Done() })
	return &b
}

// WaitRestore waits until the restore has finished.
func (f *Fixture) WaitRestore(t *testing.T, name string) *v1alpha1.Restore {
	t.Helper()
	var rs v1alpha1.Restore
	f.waitDone(t, name, &rs, func() bool { return rs.Status.Phase.Done() })
	return &rs
}

// waitDone polls obj (named name in NS) until done reports true.
func (f *Fixture) waitDone(t *testing.T, name string, obj client.Object, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := f.C.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err == nil && done() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%T %s did not finish: %+v", obj, name, obj)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// restore completes a VolumeRestore and records what it restored.
func (a *Agent) restore(ctx context.Context, c client.Client, vr *v1alpha1.VolumeRestore) {
	if vr.Status.Phase.Done() {
		return
	}
	a.mu.Lock()
	if a.Restored == nil {
		a.Restored = map[string]string{}
	}
	a.Restored[vr.Spec.Target.PVC.Namespace+"/"+vr.Spec.Target.PVC.Name] = vr.Spec.SnapshotID
	a.mu.Unlock()
	vr.Status.Phase, vr.Status.SnapshotID = v1alpha1.WorkCompleted, vr.Spec.SnapshotID
	vr.Status.Progress = v1alpha1.Progress{BytesDone: 1000, BytesTotal: 1000}
	_ = c.Status().Update(ctx, vr)
}

// RestoredSnapshots returns PVC → snapshot ID of the volumes restored.
func (a *Agent) RestoredSnapshots() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]string{}
	for k, v := range a.Restored {
		out[k] = v
	}
	return out
}

// Lock and Unlock guard Cut.
func (a *Agent) Lock()   { a.mu.Lock() }
func (a *Agent) Unlock() { a.mu.Unlock() }
