package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// writeKubeconfig writes a kubeconfig for cfg, with one context "test",
// so the commands load it as they would a user's.
func writeKubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// cli runs commands against one cluster and records every byte they print,
// so a test can assert that no secret ever appeared.
type cli struct {
	t          *testing.T
	kubeconfig string
	namespace  string
	now        func() time.Time
	mu         sync.Mutex
	all        bytes.Buffer
}

// result is one command's outcome.
type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// run executes cairn with args (plus --kubeconfig and -n).
func (c *cli) run(args ...string) result { return c.runCtx(context.Background(), args...) }

func (c *cli) runCtx(ctx context.Context, args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	now := c.now
	if now == nil {
		now = time.Now
	}
	root := NewCommand(Config{Out: &out, Err: &errb, Now: now, Progress: "plain", PollInterval: 100 * time.Millisecond})
	full := append([]string{"--kubeconfig", c.kubeconfig, "-n", c.namespace}, args...)
	root.SetArgs(full)
	err := root.ExecuteContext(ctx)
	if err != nil {
		errb.WriteString("cairn: " + err.Error() + "\n")
	}
	c.mu.Lock()
	c.all.WriteString(out.String() + errb.String())
	c.mu.Unlock()
	return result{out: out.String(), err: errb.String(), code: ExitCode(err)}
}

// ok runs a command that must succeed.
func (c *cli) ok(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("cairn %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// fails runs a command that must exit with code and print want.
func (c *cli) fails(code int, want string, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code || !strings.Contains(r.err, want) {
		c.t.Fatalf("cairn %s: want exit %d and %q in stderr, got %s", strings.Join(args, " "), code, want, r)
	}
	return r
}

// printed returns everything every command printed.
func (c *cli) printed() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.all.String()
}

// agent stands in for the node agents. It moves each volume in four
// steps with progress and a rate, and never finishes the items of
// backups named slow-*, so tests can cancel them or stop waiting.
type agent struct{ c client.Client }

func (a agent) run(ctx context.Context, ns string) {
	for ctx.Err() == nil {
		var vbs v1alpha1.VolumeBackupList
		if a.c.List(ctx, &vbs, client.InNamespace(ns)) == nil {
			for i := range vbs.Items {
				vb := &vbs.Items[i]
				if a.step(&vb.Status, strings.HasPrefix(vb.Spec.BackupName, "slow-")) {
					_ = a.c.Status().Update(ctx, vb)
				}
			}
		}
		var vrs v1alpha1.VolumeRestoreList
		if a.c.List(ctx, &vrs, client.InNamespace(ns)) == nil {
			for i := range vrs.Items {
				vr := &vrs.Items[i]
				if a.step(&vr.Status, false) {
					vr.Status.SnapshotID = vr.Spec.SnapshotID
					_ = a.c.Status().Update(ctx, vr)
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

const volumeBytes = 4 << 20

// step advances one item; it reports whether the status changed.
func (a agent) step(st *v1alpha1.WorkStatus, hold bool) bool {
	switch {
	case st.Phase.Done():
		return false
	case st.Phase == "" || st.Phase == v1alpha1.WorkPending:
		st.Phase, st.Agent = v1alpha1.WorkInProgress, "test-agent"
		now := metav1.Now()
		st.StartTime = &now
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionSnapshotTaken, Status: metav1.ConditionTrue,
			Reason: "Cut", Message: "snapshot cut"})
		st.Progress = v1alpha1.Progress{BytesTotal: volumeBytes}
	case hold:
		st.Progress.BytesDone, st.Progress.BytesPerSecond = volumeBytes/4, 1<<20
	case st.Progress.BytesDone < volumeBytes:
		st.Progress.BytesDone += volumeBytes / 4
		st.Progress.BytesPerSecond = 10 << 20
	default:
		st.Phase, st.SnapshotID = v1alpha1.WorkCompleted, "5f3c0c7e9a1b2d4f6e8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e"
		st.Stats = v1alpha1.WorkStats{ReadMode: v1alpha1.ReadFull, VolumeBytes: volumeBytes, BytesRead: volumeBytes, BytesAdded: volumeBytes / 2, BytesStored: volumeBytes / 4}
		st.Progress.BytesPerSecond = 0
		now := metav1.Now()
		st.CompletionTime = &now
	}
	return true
}
