//go:build realnode

package realnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/csi/hostpath"
)

const (
	appNamespace      = "shop"
	restoredNamespace = "shop-restored"
	agentStateDir     = KubeletDir + "/plugins/cairn.dev/agent"
)

// TestRealNode runs the scenarios in order on one node: each builds on
// what the one before left (the driver, cairn, the backup).
func TestRealNode(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	c := kubeClient(t)
	step := func(name string, fn func()) {
		t0 := time.Now()
		fn()
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("step %q passed in %s", name, time.Since(t0).Round(time.Millisecond))
	}
	step("the reference driver registers with the kubelet", func() { installDriver(ctx, t, c) })
	step("cairn install runs the controller and the agent as pods", func() { installCairn(ctx, t, c) })
	step("a running application on two volumes", func() { startApp(ctx, t) })
	var fr freezeReport
	step("backup with exec hooks freezes the application only while its snapshots are cut", func() {
		fr = backupFrozen(ctx, t, c, "shop-1")
	})
	step("restore into another namespace: the workload waits for its volumes and reads a consistent prefix", func() {
		restoreConsistent(ctx, t, c, "shop-1", fr)
	})
	step("the agent pod killed mid-item: the DaemonSet brings it back, the item completes, nothing is left behind", func() {
		agentKilledMidItem(ctx, t, c, "shop-2", 4)
	})
	step("a schedule every minute runs three backups; retention keeps the newest two", func() { scheduleOnRealTime(ctx, t, c) })
	step("uninstall leaves no cairn pod, mount or driver registration", func() { uninstall(ctx, t, c) })
}

// installCairn runs `cairn install` with the locally built images and a
// first location on versitygw, and waits for the location to be usable.
func installCairn(ctx context.Context, t *testing.T, c client.Client) {
	s3, err := cluster.StartS3("cairn")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	creds, err := s3.CredentialsFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := cairnCLI(ctx, t, "install", "--image", ControllerImage, "--agent-image", AgentImage,
		"--location-url", "s3://cairn/realnode", "--s3-endpoint", s3.Endpoint, "--s3-region", s3.Region,
		"--credentials-file", creds, "--password-file", pw, "--wait", "--timeout", "3m")
	t.Logf("cairn install:\n%s", out)
	if err := waitFor(2*time.Minute, "location default Available", func() (bool, error) {
		var loc v1alpha1.BackupLocation
		if err := c.Get(ctx, client.ObjectKey{Namespace: cairnNamespace, Name: "default"}, &loc); err != nil {
			return false, err
		}
		return loc.Status.Phase == v1alpha1.LocationAvailable, nil
	}); err != nil {
		t.Fatal(err)
	}
	limitAgentReads(ctx, t)
	pods, err := cluster.Kube.CoreV1().Pods(cairnNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.Name+"="+string(p.Status.Phase))
	}
	t.Logf("cairn pods: %s", strings.Join(names, ", "))
}

// agentReadLimit slows the agent's reads (its --read-limit) so that moving
// the block volume's data takes seconds longer than cutting its snapshot:
// that is what lets the test tell, with the one-second resolution of
// status times, that the application was thawed before the upload, not
// after it.
const agentReadLimit = 32 << 20

// limitAgentReads adds --read-limit to the installed agent DaemonSet, as
// an operator would, and waits for the rolled-out pod to be ready.
func limitAgentReads(ctx context.Context, t *testing.T) {
	patch := fmt.Sprintf(`[{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--read-limit=%d"}]`, agentReadLimit)
	ds, err := cluster.Kube.AppsV1().DaemonSets(cairnNamespace).Patch(ctx, "cairn-agent", types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(2*time.Minute, "agent DaemonSet rolled out", func() (bool, error) {
		d, err := cluster.Kube.AppsV1().DaemonSets(cairnNamespace).Get(ctx, "cairn-agent", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pods, err := cluster.Kube.CoreV1().Pods(cairnNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=cairn-agent"})
		if err != nil {
			return false, err
		}
		s := d.Status
		return s.ObservedGeneration >= ds.Generation && s.UpdatedNumberScheduled == 1 && s.NumberReady == 1 && len(pods.Items) == 1,
			fmt.Errorf("status %+v, %d pods", s, len(pods.Items))
	}); err != nil {
		t.Fatal(err)
	}
}

// leftoversOnNode fails the test if the agent left mounts in its state
// directory or temporary volumes on the driver. keep are the volumes the
// workloads own.
func leftoversOnNode(t *testing.T, keep int) {
	t.Helper()
	if mps, _ := mountsUnder(agentStateDir); len(mps) > 0 {
		t.Errorf("the agent left mounts on the node: %v", mps)
	}
	inv, err := hostpath.ReadInventory(DriverRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Volumes) != keep {
		t.Errorf("driver holds %d volumes, want the workloads' %d: %v", len(inv.Volumes), keep, inv.Volumes)
	}
	for _, p := range inv.Published {
		if strings.HasPrefix(p, agentStateDir) {
			t.Errorf("a publication into the agent's directory is left: %s", p)
		}
	}
}
