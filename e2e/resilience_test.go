package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

// slowVolume provisions a fully written block volume on node-b that the
// agents, limited to 8 MiB/s, need about eight seconds to read.
func slowVolume(t *testing.T, c *localcluster.Cluster, ns string) string {
	t.Helper()
	ctx := context.Background()
	namespace(t, c, ns)
	_, err := c.Provision(ctx, localcluster.VolumeSpec{Namespace: ns, PVC: "big", Node: "node-b", Size: 64 * mib, Block: true})
	mustOK(t, "provision", err)
	paths, err := c.RunPod(ctx, localcluster.PodSpec{Namespace: ns, Name: "db", Node: "node-b", Claims: []string{"big"}})
	mustOK(t, "run the pod", err)
	mustOK(t, "write the volume", localcluster.WriteImage(paths["big"], 3, []localcluster.Range{{Offset: 0, Length: 64 * mib}}))
	digest, err := localcluster.DigestImage(paths["big"], 64*mib)
	mustOK(t, "digest", err)
	return digest
}

var slowAgents = []string{"--read-limit", "8388608"}

// waitItemProgress waits until the backup's one work item has moved at
// least bytes and returns it.
func waitItemProgress(t *testing.T, c *localcluster.Cluster, backup string, bytes int64) v1alpha1.VolumeBackup {
	t.Helper()
	var vb v1alpha1.VolumeBackup
	eventually(t, time.Minute, "the work item to move data", func() bool {
		for _, it := range volumeBackups(t, c, backup) {
			vb = it
		}
		return vb.Status.Phase == v1alpha1.WorkInProgress && vb.Status.Progress.BytesDone >= bytes
	})
	return vb
}

// packBytes is the size of the packs a repository directory holds, leaving
// out the temporary files of uploads in progress.
func packBytes(repoDir string) int64 {
	var n int64
	_ = filepath.WalkDir(filepath.Join(repoDir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		if info, err := d.Info(); err == nil {
			n += info.Size()
		}
		return nil
	})
	return n
}

// An agent killed in the middle of an item: after it restarts, the item
// completes reusing what was uploaded, the repository holds one snapshot
// for it, and nothing is left on the driver.
func TestAgentKilledMidItemResumes(t *testing.T) {
	c := start(t, localcluster.Config{AgentArgs: slowAgents})
	ctx := context.Background()
	repoDir := c.Nodes["node-a"].Dir + "/../repo"
	password := localcluster.Password()
	mustOK(t, "add the location", c.AddLocation(ctx, "default", localcluster.LocationSpec{URL: repoDir, Password: password}))
	digest := slowVolume(t, c, "kill")
	create(t, c, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "killed", Namespace: c.Namespace},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"kill"}}})
	first := waitItemProgress(t, c, "killed", 16*mib)
	// Bytes read are not bytes stored: chunks wait in packs being filled
	// and uploaded. Kill once at least one whole pack is in the store.
	var stored int64
	eventually(t, time.Minute, "a pack of the item to be stored", func() bool {
		stored = packBytes(repoDir)
		return stored >= 8*mib
	})
	node := c.Nodes["node-b"]
	mustOK(t, "kill the agent", node.KillAgent())
	mustOK(t, "restart the agent", node.StartAgent())

	b := waitBackup(t, c, "killed", 3*time.Minute)
	if b.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("backup after the kill: %s", describeBackup(b))
	}
	vb := volumeBackups(t, c, "killed")["big"]
	if vb.Status.Agent == first.Status.Agent || !hasWarning(vb, "taken over") {
		t.Errorf("agent %q (first %q), warnings %v: want a takeover by the restarted agent", vb.Status.Agent, first.Status.Agent, vb.Status.Warnings)
	}
	// The volume is incompressible: what the killed run stored is reused,
	// give or take the chunks cut again around where it stopped.
	if added := vb.Status.Stats.BytesAdded; added > 64*mib-stored+4*mib {
		t.Errorf("the resumed item added %d bytes; the killed run had stored %d of the 64 MiB to reuse", added, stored)
	}
	if n := snapshotsTagged(t, repoDir, password, "work-item="+string(vb.UID)); n != 1 {
		t.Errorf("the repository holds %d snapshots of the item, want exactly 1", n)
	}
	checkNoLeftovers(t, c, nil)
	mustOK(t, "stop the pod", c.StopPods(ctx, "kill"))
	restoreNow(t, c, "after-kill", "killed", map[string]string{"kill": "kill-restored"})
	p, closeFn, err := c.OpenClaim(ctx, "kill-restored", "big")
	mustOK(t, "open the restored volume", err)
	got, err := localcluster.DigestImage(p, 64*mib)
	mustOK(t, "digest", err)
	mustOK(t, "close", closeFn())
	if got != digest {
		t.Error("the volume restored from the resumed backup differs from the original")
	}
}

func hasWarning(vb v1alpha1.VolumeBackup, part string) bool {
	for _, w := range vb.Status.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// A driver that fails an RPC fails the item with the RPC and the driver's
// message, and the agent still cleans up; a hanging driver times out.
func TestDriverErrorsAndHangs(t *testing.T) {
	c := start(t, localcluster.Config{AgentArgs: []string{"--csi-timeout", "1s", "--csi-attempts", "2"}})
	ctx := context.Background()
	mustOK(t, "add the location", c.AddLocation(ctx, "default", localcluster.LocationSpec{URL: c.Nodes["node-a"].Dir + "/../repo", Password: localcluster.Password()}))
	slowVolume(t, c, "faulty")
	drv := c.Nodes["node-b"].Driver
	mustOK(t, "set the fault", drv.SetFault("NodeStageVolume", codes.Internal, "disk /dev/sdz is offline"))
	b := backupNow(t, c, "stage-fails", "faulty")
	vb := volumeBackups(t, c, "stage-fails")["big"]
	if b.Status.Phase == v1alpha1.BackupCompleted || vb.Status.Phase != v1alpha1.WorkFailed {
		t.Fatalf("backup %s, item %s; want the item Failed", b.Status.Phase, vb.Status.Phase)
	}
	for _, want := range []string{"NodeStageVolume", "disk /dev/sdz is offline", "Internal", "faulty/big"} {
		if !strings.Contains(vb.Status.Message, want) {
			t.Errorf("message %q does not say %q", vb.Status.Message, want)
		}
	}
	checkNoLeftovers(t, c, nil)

	drv.ClearFaults()
	mustOK(t, "hang CreateSnapshot", drv.SetHang("CreateSnapshot", true))
	start := time.Now()
	b = backupNow(t, c, "snapshot-hangs", "faulty")
	drv.SetHang("CreateSnapshot", false)
	if b.Status.Phase == v1alpha1.BackupCompleted {
		t.Errorf("a backup whose snapshot hung ended Completed")
	}
	vb = volumeBackups(t, c, "snapshot-hangs")["big"]
	if vb.Status.Phase != v1alpha1.WorkFailed || !strings.Contains(vb.Status.Message, "DeadlineExceeded") || !strings.Contains(vb.Status.Message, "CreateSnapshot") {
		t.Fatalf("item %s: %q; want Failed naming CreateSnapshot and DeadlineExceeded", vb.Status.Phase, vb.Status.Message)
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("the hanging driver held the backup for %s", took)
	}
	checkNoLeftovers(t, c, nil)
}

// Deleting a running backup stops its item within seconds and cleans up.
func TestCancelRunningBackup(t *testing.T) {
	c := start(t, localcluster.Config{AgentArgs: slowAgents})
	ctx := context.Background()
	mustOK(t, "add the location", c.AddLocation(ctx, "default", localcluster.LocationSpec{URL: c.Nodes["node-a"].Dir + "/../repo", Password: localcluster.Password()}))
	slowVolume(t, c, "cancel")
	b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "doomed", Namespace: c.Namespace},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"cancel"}}}
	create(t, c, b)
	vb := waitItemProgress(t, c, "doomed", 8*mib)
	mustOK(t, "delete the backup", c.Client.Delete(ctx, b))
	canceled := time.Now()
	eventually(t, 30*time.Second, "the item to stop and clean up", func() bool {
		var got v1alpha1.VolumeBackup
		err := c.Client.Get(ctx, client.ObjectKeyFromObject(&vb), &got)
		return (err != nil || got.Status.Phase == v1alpha1.WorkCanceled) && len(journalRecords(c.Nodes["node-b"])) == 0
	})
	if took := time.Since(canceled); took > 15*time.Second {
		t.Errorf("the item took %s to stop", took)
	}
	checkNoLeftovers(t, c, nil)
}

// Two agents started with the same node name never run one item twice:
// the claim is a status update guarded by the resourceVersion.
func TestTwoAgentsWithOneNodeNameRunEachItemOnce(t *testing.T) {
	c := start(t, localcluster.Config{})
	ctx := context.Background()
	mustOK(t, "add the location", c.AddLocation(ctx, "default", localcluster.LocationSpec{URL: c.Nodes["node-a"].Dir + "/../repo", Password: localcluster.Password()}))
	stop, err := c.Nodes["node-b"].StartTwin()
	mustOK(t, "start a second agent for node-b", err)
	defer func() { mustOK(t, "stop the twin", stop()) }()
	namespace(t, c, "twins")
	var claims []string
	for i := range 4 {
		name := fmt.Sprintf("v%d", i)
		claims = append(claims, name)
		_, err := c.Provision(ctx, localcluster.VolumeSpec{Namespace: "twins", PVC: name, Node: "node-b", Size: 8 * mib, Block: true})
		mustOK(t, "provision", err)
	}
	paths, err := c.RunPod(ctx, localcluster.PodSpec{Namespace: "twins", Name: "p", Node: "node-b", Claims: claims})
	mustOK(t, "run the pod", err)
	for i, claim := range claims {
		mustOK(t, "write", localcluster.WriteImage(paths[claim], uint64(i), []localcluster.Range{{Offset: 0, Length: mib}}))
	}
	before := c.Nodes["node-b"].Driver.Calls("CreateSnapshot")
	b := backupNow(t, c, "twins", "twins")
	if b.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("backup: %s", describeBackup(b))
	}
	if got := c.Nodes["node-b"].Driver.Calls("CreateSnapshot") - before; got != len(claims) {
		t.Errorf("%d snapshots were cut for %d items; an item ran twice", got, len(claims))
	}
	agents := map[string]bool{}
	for _, vb := range volumeBackups(t, c, "twins") {
		agents[vb.Status.Agent] = true
	}
	t.Logf("items were run by %d agents", len(agents))
}
