package e2e

import (
	"context"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

const mib = 1 << 20

// app provisions the test application: a file volume on node-a and a
// block volume with holes on node-b, each mounted by a running pod.
type app struct {
	ns               string
	filesPath, dbDev string
	dbSize           int64
	dbData           []localcluster.Range
}

func startApp(t *testing.T, c *localcluster.Cluster, ns string) *app {
	t.Helper()
	ctx := context.Background()
	namespace(t, c, ns)
	a := &app{ns: ns, dbSize: 64 * mib, dbData: []localcluster.Range{{Offset: 0, Length: 4 * mib}, {Offset: 16 * mib, Length: 4 * mib}, {Offset: 40 * mib, Length: mib}}}
	_, err := c.Provision(ctx, localcluster.VolumeSpec{Namespace: ns, PVC: "files", Node: "node-a", Size: 256 * mib})
	mustOK(t, "provision the file volume", err)
	_, err = c.Provision(ctx, localcluster.VolumeSpec{Namespace: ns, PVC: "db", Node: "node-b", Size: a.dbSize, Block: true})
	mustOK(t, "provision the block volume", err)
	web, err := c.RunPod(ctx, localcluster.PodSpec{Namespace: ns, Name: "web", Node: "node-a", Claims: []string{"files"}})
	mustOK(t, "run the web pod", err)
	db, err := c.RunPod(ctx, localcluster.PodSpec{Namespace: ns, Name: "db", Node: "node-b", Claims: []string{"db"}})
	mustOK(t, "run the db pod", err)
	a.filesPath, a.dbDev = web["files"], db["db"]
	_, err = localcluster.WriteTree(a.filesPath, 1, 300)
	mustOK(t, "write the file tree", err)
	mustOK(t, "write the db image", localcluster.WriteImage(a.dbDev, 1, a.dbData))
	return a
}

// digests returns the digests of both volumes as the pods see them.
func (a *app) digests(t *testing.T) (files, db string) {
	t.Helper()
	files, err := localcluster.DigestTree(a.filesPath)
	mustOK(t, "digest the file tree", err)
	db, err = localcluster.DigestImage(a.dbDev, a.dbSize)
	mustOK(t, "digest the db image", err)
	return files, db
}

// restoredDigests reads the volumes of a restored namespace.
func restoredDigests(t *testing.T, c *localcluster.Cluster, ns string, dbSize int64) (files, db string) {
	t.Helper()
	ctx := context.Background()
	p, closeFn, err := c.OpenClaim(ctx, ns, "files")
	mustOK(t, "open the restored file volume", err)
	files, err = localcluster.DigestTree(p)
	mustOK(t, "digest the restored tree", err)
	mustOK(t, "close the restored file volume", closeFn())
	p, closeFn, err = c.OpenClaim(ctx, ns, "db")
	mustOK(t, "open the restored block volume", err)
	db, err = localcluster.DigestImage(p, dbSize)
	mustOK(t, "digest the restored image", err)
	mustOK(t, "close the restored block volume", closeFn())
	return files, db
}

// Two nodes, a file volume and a block volume with holes: back up through
// the controller and the agents, change 1% of the block volume, back up
// again (reading only the changed blocks), restore both backups into new
// namespaces and compare every byte.
func TestBackupAndRestoreAcrossTwoNodes(t *testing.T) {
	c := start(t, localcluster.Config{})
	ctx := context.Background()
	mustOK(t, "add the location", c.AddLocation(ctx, "default", localcluster.LocationSpec{URL: c.Nodes["node-a"].Dir + "/../repo", Password: localcluster.Password()}))
	a := startApp(t, c, "shop")
	// A volume no pod mounts is backed up on the node its PV is pinned to.
	_, err := c.Provision(ctx, localcluster.VolumeSpec{Namespace: "shop", PVC: "cold", Node: "node-b", Size: 16 * mib})
	mustOK(t, "provision an unmounted volume", err)
	files1, db1 := a.digests(t)

	b1 := backupNow(t, c, "first", "shop")
	if b1.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("first backup: %s", describeBackup(b1))
	}
	items := volumeBackups(t, c, "first")
	checkItem(t, items["files"], "node-a", v1alpha1.ReadFiles)
	checkItem(t, items["db"], "node-b", v1alpha1.ReadAllocated)
	checkItem(t, items["cold"], "node-b", v1alpha1.ReadFiles)
	if got, want := items["db"].Status.Stats.BytesRead, int64(9*mib); got != want {
		t.Errorf("first backup read %d bytes of the block volume; the driver reports %d allocated", got, want)
	}

	// Rewrite ten 64 KiB blocks: 1% of the volume.
	var changed []localcluster.Range
	for i := range int64(10) {
		changed = append(changed, localcluster.Range{Offset: i*6*mib + 128<<10, Length: 64 << 10})
	}
	mustOK(t, "rewrite 1% of the blocks", localcluster.WriteImage(a.dbDev, 2, changed))
	files2, db2 := a.digests(t)

	b2 := backupNow(t, c, "second", "shop")
	if b2.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("second backup: %s", describeBackup(b2))
	}
	items = volumeBackups(t, c, "second")
	checkItem(t, items["db"], "node-b", v1alpha1.ReadChangedBlocks)
	if got, max := items["db"].Status.Stats.BytesRead, a.dbSize*2/100; got > max || got < 10*64<<10 {
		t.Errorf("the changed-block incremental read %d bytes; want the 640 KiB changed, at most 2%% (%d) of the volume", got, max)
	}

	mustOK(t, "stop the pods", c.StopPods(ctx, "shop"))
	r2 := restoreNow(t, c, "latest", "second", map[string]string{"shop": "shop-restored"})
	if r2.Status.Phase != v1alpha1.RestoreCompleted {
		t.Fatalf("restore of the second backup: %s %v", r2.Status.Phase, r2.Status.Errors)
	}
	gotFiles, gotDB := restoredDigests(t, c, "shop-restored", a.dbSize)
	if gotFiles != files2 || gotDB != db2 {
		t.Errorf("restore of the incremental differs: files equal %v, image equal %v", gotFiles == files2, gotDB == db2)
	}
	// The holes stayed holes: the restored image holds about the 9.6 MiB
	// of data, not 64 MiB.
	if used := backingBytes(t, c, "shop-restored", "db"); used > 16*mib {
		t.Errorf("the restored block volume occupies %d bytes of disk; its holes were written", used)
	}
	r1 := restoreNow(t, c, "older", "first", map[string]string{"shop": "shop-first"})
	if r1.Status.Phase != v1alpha1.RestoreCompleted {
		t.Fatalf("restore of the first backup: %s %v", r1.Status.Phase, r1.Status.Errors)
	}
	gotFiles, gotDB = restoredDigests(t, c, "shop-first", a.dbSize)
	if gotFiles != files1 || gotDB != db1 {
		t.Errorf("restore of the first backup differs: files equal %v, image equal %v", gotFiles == files1, gotDB == db1)
	}
	checkNoLeftovers(t, c, nil)
}

func checkItem(t *testing.T, vb v1alpha1.VolumeBackup, node string, mode v1alpha1.ReadMode) {
	t.Helper()
	if vb.Name == "" {
		t.Fatalf("no work item for the %s volume", node)
	}
	if vb.Status.Phase != v1alpha1.WorkCompleted || vb.Spec.NodeName != node || vb.Status.Stats.ReadMode != mode || vb.Status.SnapshotID == "" {
		t.Errorf("work item %s for %s: phase %s on %s, read %q, snapshot %q, message %q, warnings %v; want Completed on %s reading %q",
			vb.Name, vb.Spec.Volume.PVC.Name, vb.Status.Phase, vb.Spec.NodeName, vb.Status.Stats.ReadMode, vb.Status.SnapshotID,
			vb.Status.Message, vb.Status.Warnings, node, mode)
	}
}

// backingBytes is the disk space the driver's image of a claim's volume
// occupies.
func backingBytes(t *testing.T, c *localcluster.Cluster, ns, claim string) int64 {
	t.Helper()
	var pvc corev1.PersistentVolumeClaim
	mustOK(t, "read the claim", c.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: claim}, &pvc))
	var pv corev1.PersistentVolume
	mustOK(t, "read the PV", c.Client.Get(context.Background(), client.ObjectKey{Name: pvc.Spec.VolumeName}, &pv))
	for _, n := range c.Nodes {
		matches, _ := filepath.Glob(filepath.Join(n.Dir, "csi", "volumes", pv.Spec.CSI.VolumeHandle+"*"))
		for _, m := range matches {
			var st unix.Stat_t
			if unix.Stat(m, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
				return st.Blocks * 512
			}
		}
	}
	t.Fatalf("no image file for volume %s", pv.Spec.CSI.VolumeHandle)
	return 0
}
