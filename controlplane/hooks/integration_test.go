package hooks_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/hooks"
	"github.com/cairnbackup/cairn/controlplane/hooks/hookstest"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// create makes namespaces and pods on the API server. Without a kubelet the
// pods stay Pending; setting an IP writes it through the status
// subresource, as a kubelet would.
func create(t *testing.T, c client.Client, pods ...corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	for _, p := range pods {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}}
		if err := c.Create(ctx, ns); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
		ip := p.Status.PodIP
		if err := c.Create(ctx, &p); err != nil {
			t.Fatalf("create pod %s/%s: %v", p.Namespace, p.Name, err)
		}
		if ip != "" {
			p.Status.PodIP, p.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
			if err := c.Status().Update(ctx, &p); err != nil {
				t.Fatalf("set pod %s/%s IP: %v", p.Namespace, p.Name, err)
			}
		}
	}
}

func listPods(t *testing.T, c client.Client, namespaces ...string) []corev1.Pod {
	t.Helper()
	var out []corev1.Pod
	for _, ns := range namespaces {
		var l corev1.PodList
		if err := c.List(context.Background(), &l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Items...)
	}
	return out
}

// TestIntegration runs the hooks against a real API server, one per test
// binary since each takes seconds to start.
func TestIntegration(t *testing.T) {
	env := testenv.Start(t)
	t.Run("FreezeWindow", func(t *testing.T) { testFreezeWindow(t, env) })
	t.Run("BadAnnotation", func(t *testing.T) { testBadAnnotation(t, env) })
	t.Run("PodExecAndRestore", func(t *testing.T) { testPodExecAndRestore(t, env) })
}

// Hooks selected by annotations and spec hooks on pods served by a real API
// server, run through the freeze protocol with the snapshot hand-off on a
// real VolumeBackup: its SnapshotTaken condition, set by a stand-in agent,
// ends the window.
func testFreezeWindow(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	var thawedAt time.Time
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		thawedAt = time.Now()
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	host, port, _ := net.SplitHostPort(u.Host)

	cache := labeled(pod("tools", "cache-0", map[string]string{
		post("http-port"): port, post("http-path"): "/resume"}), "app", "cache")
	cache.Status.PodIP = host
	create(t, env.Client,
		labeled(pod("shop", "db-0", map[string]string{
			pre("command"): `["fsfreeze", "-f", "/var/lib/db"]`, pre("container"): "db",
			post("command"): "fsfreeze -u /var/lib/db", post("container"): "db"}, "sidecar", "db"), "app", "db"),
		labeled(pod("shop", "web-0", nil, "web"), "app", "web"),
		labeled(pod("shop", "other-0", nil), "app", "other"),
		cache)
	spec := []v1alpha1.BackupResourceHook{{Name: "web", IncludedNamespaces: []string{"sh*"},
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Pre:           []v1alpha1.Hook{execSpec("sync")}, Post: []v1alpha1.Hook{execSpec("true")}}}
	phs, err := hooks.ForPods(listPods(t, env.Client, "shop", "tools"), spec)
	if err != nil {
		t.Fatal(err)
	}
	var selected []string
	for _, ph := range phs {
		selected = append(selected, ph.Pod.String())
	}
	slices.Sort(selected)
	if strings.Join(selected, " ") != "shop/db-0 shop/web-0 tools/cache-0" {
		t.Fatalf("selected %v", selected)
	}

	fx := &hookstest.Exec{}
	r := hooks.Runner{Exec: fx, SnapshotTimeout: time.Minute}
	var waitStart, waitEnd time.Time
	res := r.FreezeWindow(ctx, phs, func(ctx context.Context) error {
		waitStart = time.Now()
		defer func() { waitEnd = time.Now() }()
		return snapshotHandOff(ctx, t, env.Client)
	})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	var ran []string
	for _, c := range fx.Calls() {
		ran = append(ran, c.Pod.String()+"/"+c.Container+": "+strings.Join(c.Command, " "))
		isPre := c.Command[0] == "fsfreeze" && c.Command[1] == "-f" || c.Command[0] == "sync"
		if isPre && !c.End.Before(waitStart) || !isPre && !c.Start.After(waitEnd) {
			t.Errorf("%s ran outside its side of the snapshot window", ran[len(ran)-1])
		}
	}
	slices.Sort(ran)
	want := []string{"shop/db-0/db: /bin/sh -c fsfreeze -u /var/lib/db", "shop/db-0/db: fsfreeze -f /var/lib/db",
		"shop/web-0/web: sync", "shop/web-0/web: true"}
	if !slices.Equal(ran, want) {
		t.Errorf("ran %q\nwant %q", ran, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if thawedAt.IsZero() || !thawedAt.After(waitEnd) {
		t.Errorf("HTTP post-hook reached the pod's IP at %v, snapshots ended at %v", thawedAt, waitEnd)
	}
}

// snapshotHandOff does the backup controller's part of the window on the
// API server: create a VolumeBackup, then wait for SnapshotTaken=True,
// which a stand-in agent sets.
func snapshotHandOff(ctx context.Context, t *testing.T, c client.Client) error {
	vb := &v1alpha1.VolumeBackup{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "b1-data-db-0"},
		Spec: v1alpha1.VolumeBackupSpec{NodeName: "node-a", BackupName: "b1", LocationName: "default",
			DataPath: v1alpha1.DataPathSnapshotMove,
			Volume:   v1alpha1.VolumeSource{PVC: v1alpha1.ObjectRef{Namespace: "shop", Name: "data-db-0"}}}}
	if err := c.Create(ctx, vb); err != nil {
		return err
	}
	agent := make(chan error, 1)
	go func() { // the node agent: cut the snapshot, say so
		meta.SetStatusCondition(&vb.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionSnapshotTaken,
			Status: metav1.ConditionTrue, Reason: "SnapshotCut", Message: "snapshot cut"})
		agent <- c.Status().Update(ctx, vb)
	}()
	defer func() {
		if err := <-agent; err != nil {
			t.Errorf("agent: %v", err)
		}
	}()
	for {
		var got v1alpha1.VolumeBackup
		if err := c.Get(ctx, client.ObjectKeyFromObject(vb), &got); err != nil {
			return err
		}
		if meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionSnapshotTaken) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// A pod with a malformed annotation is named in the error.
func testBadAnnotation(t *testing.T, env *testenv.Env) {
	create(t, env.Client,
		pod("bad", "db-0", map[string]string{pre("command"): `["mysql" "-pS3CRET"]`}),
		pod("bad", "web-0", map[string]string{pre("command"): "sync"}))
	phs, err := hooks.ForPods(listPods(t, env.Client, "bad"), nil)
	if err == nil || !strings.Contains(err.Error(), "pod bad/db-0: annotation pre.hook.backup.cairn.dev/command") ||
		strings.Contains(err.Error(), "S3CRET") {
		t.Fatalf("err = %v", err)
	}
	if len(phs) != 1 || phs[0].Pod.Name != "web-0" {
		t.Fatalf("kept %+v", phs)
	}
}

// The real exec transport reaches the API server's pods/exec; a pod that
// was never scheduled cannot run a command, and the error says so without
// quoting the command. Restore hooks wait for readiness read from the API
// server.
func testPodExecAndRestore(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	create(t, env.Client, labeled(pod("restored", "db-0", nil, "db"), "app", "db"))
	px, err := hooks.NewPodExecutor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = px.Exec(ctx, hooks.ObjectRef{Namespace: "restored", Name: "db-0"}, "db",
		[]string{"mysql", "--password=S3CRET"})
	if err == nil || strings.Contains(err.Error(), "S3CRET") {
		t.Fatalf("exec on an unscheduled pod: %v", err)
	}
	t.Logf("exec on an unscheduled pod: %v", err)

	spec := []v1alpha1.RestoreResourceHook{{Name: "warm", PostRestore: []v1alpha1.RestoreExecHook{{
		Command: []string{"warm-cache"}, WaitTimeout: &metav1.Duration{Duration: 30 * time.Second}}}}}
	restored := listPods(t, env.Client, "restored")
	fx := &hookstest.Exec{}
	r := hooks.Runner{Exec: fx, PollInterval: 20 * time.Millisecond}
	var readyAt time.Time
	done := make(chan error, 1)
	go func() { // the kubelet: the pod becomes Ready a little later
		time.Sleep(200 * time.Millisecond)
		p := restored[0].DeepCopy()
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		readyAt = time.Now()
		done <- env.Client.Status().Update(ctx, p)
	}()
	out, err := r.RunRestoreExec(ctx, hooks.ClientPods{Reader: env.Client}, restored, spec)
	if uerr := <-done; uerr != nil || err != nil {
		t.Fatal(uerr, err)
	}
	calls := fx.Calls()
	if out.Failed || len(calls) != 1 || !calls[0].Start.After(readyAt) {
		t.Fatalf("outcome %q, calls %+v, ready at %v", out.Messages(), calls, readyAt)
	}
}
