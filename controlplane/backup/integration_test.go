package backup_test

import (
	"context"
	"strings"
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
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/backup"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/hooks"
	"github.com/cairnbackup/cairn/controlplane/hooks/hookstest"
	"github.com/cairnbackup/cairn/controlplane/internal/testenv"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/manifest"
)

const ns = "cairn"

type fixture struct {
	env    *testenv.Env
	c      client.Client
	opener *locations.Opener
	exec   *hookstest.Exec
}

func start(t *testing.T) *fixture {
	env := testenv.Start(t)
	f := &fixture{env: env, c: env.Client, opener: &locations.Opener{Client: env.Client, KDF: crypto.FastKDFForTests},
		exec: &hookstest.Exec{}}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr(true)}})
	if err != nil {
		t.Fatal(err)
	}
	disc := discovery.NewDiscoveryClientForConfigOrDie(env.Config)
	dyn := dynamic.NewForConfigOrDie(env.Config)
	r := backup.New(backup.Deps{Client: mgr.GetClient(), Opener: f.opener,
		Collector: backup.ClusterCollector{Deps: collect.Deps{Discovery: disc, Dynamic: dyn}},
		Freezer:   backup.HookFreezer{Client: mgr.GetClient(), Runner: &hooks.Runner{Exec: f.exec}},
		Recorder:  mgr.GetEventRecorder("backup")},
		backup.Config{PollInterval: 200 * time.Millisecond, SnapshotTimeout: 20 * time.Second})
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	f.create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	f.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "repo-password", Namespace: ns},
		Data: map[string][]byte{"password": []byte("s3cret-location-password")}})
	f.create(t, &v1alpha1.BackupLocation{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns},
		Spec: v1alpha1.BackupLocationSpec{URL: "file://" + t.TempDir() + "/repo",
			PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "repo-password", Key: "password"}}})
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := f.c.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// app creates a namespace with a ConfigMap, a Secret, a bound CSI volume
// and a pod on node-a that mounts it and declares freeze hooks.
func (f *fixture) app(t *testing.T, name string) {
	ctx := context.Background()
	f.create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	f.create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: name}, Data: map[string]string{"k": "v"}})
	f.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: name}, StringData: map[string]string{"p": "x"}})
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}
	if err := f.c.Create(ctx, node); err == nil {
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		if err := f.c.Status().Update(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name + "-pv"},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "hostpath.csi.cairn.dev", VolumeHandle: "vol-" + name}},
			ClaimRef:               &corev1.ObjectReference{Namespace: name, Name: "data"}}}
	f.create(t, pv)
	f.create(t, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: name},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			VolumeName: pv.Name, Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}})
	f.create(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: name, Annotations: map[string]string{
		"pre.hook.backup.cairn.dev/command": `["fsfreeze","--freeze","/data"]`, "post.hook.backup.cairn.dev/command": `["fsfreeze","--unfreeze","/data"]`}},
		Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "db", Image: "db"}},
			Volumes: []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}}})
}

// agent stands in for the node agents: it cuts the "snapshot" of every
// work item, records when, and completes it.
type agent struct {
	mu  sync.Mutex
	cut map[string]time.Time
}

func (a *agent) run(ctx context.Context, t *testing.T, c client.Client) {
	a.cut = map[string]time.Time{}
	go func() {
		for ctx.Err() == nil {
			var list v1alpha1.VolumeBackupList
			if err := c.List(ctx, &list, client.InNamespace(ns)); err == nil {
				for i := range list.Items {
					a.step(ctx, c, &list.Items[i])
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}

func (a *agent) step(ctx context.Context, c client.Client, vb *v1alpha1.VolumeBackup) {
	switch vb.Status.Phase {
	case "", v1alpha1.WorkPending:
		a.mu.Lock()
		a.cut[vb.Name] = time.Now()
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

func (f *fixture) waitDone(t *testing.T, name string) *v1alpha1.Backup {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var b v1alpha1.Backup
		if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &b); err == nil && b.Status.Phase.Done() {
			return &b
		}
		if time.Now().After(deadline) {
			t.Fatalf("backup %s did not finish: %+v", name, b.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBackupOfANamespaceWithHooksAndAVolume(t *testing.T) {
	f := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ag := &agent{}
	ag.run(ctx, t, f.c)
	f.app(t, "shop")
	f.create(t, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "shop-1", Namespace: ns},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}}})
	b := f.waitDone(t, "shop-1")
	if b.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("phase %s, errors %v, warnings %v", b.Status.Phase, b.Status.Errors, b.Status.Warnings)
	}
	if b.Status.VolumesTotal != 1 || b.Status.VolumesCompleted != 1 || b.Status.VolumeSnapshots[0].SnapshotID == "" {
		t.Fatalf("volumes: %+v", b.Status)
	}
	if b.Status.Progress.BytesDone != 1000 {
		t.Fatalf("progress not aggregated: %+v", b.Status.Progress)
	}
	f.assertFreezeOrder(t, ag)
	f.assertStored(t, b)
}

func (f *fixture) assertFreezeOrder(t *testing.T, ag *agent) {
	t.Helper()
	calls := f.exec.Calls()
	if len(calls) != 2 || !strings.Contains(strings.Join(calls[0].Command, " "), "--freeze") {
		t.Fatalf("hook calls: %+v, want freeze then unfreeze", calls)
	}
	ag.mu.Lock()
	defer ag.mu.Unlock()
	for _, cut := range ag.cut {
		if !calls[0].End.Before(cut) || !cut.Before(calls[1].Start) {
			t.Fatalf("freeze ended %v, snapshot cut %v, thaw started %v: snapshot not inside the freeze window", calls[0].End, cut, calls[1].Start)
		}
	}
}

func (f *fixture) assertStored(t *testing.T, b *v1alpha1.Backup) {
	t.Helper()
	ctx := context.Background()
	var loc v1alpha1.BackupLocation
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "default"}, &loc); err != nil {
		t.Fatal(err)
	}
	r, err := f.opener.Open(ctx, &loc)
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
	f := start(t)
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
			f.create(t, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: tc.spec})
			b := f.waitDone(t, name)
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
