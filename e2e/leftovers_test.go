package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	csispec "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

// checkNoLeftovers asserts that the drivers hold only the volumes PVs name
// and the snapshots kept as changed-block bases, and that no agent left a
// mount, a mount directory or a journal record other than its bases.
func checkNoLeftovers(t *testing.T, c *localcluster.Cluster, csiSecret map[string]string) {
	t.Helper()
	ctx := context.Background()
	var pvs corev1.PersistentVolumeList
	mustOK(t, "list PVs", c.Client.List(ctx, &pvs))
	wantVols := map[string]bool{}
	for _, pv := range pvs.Items {
		wantVols[pv.Spec.CSI.VolumeHandle] = true
	}
	wantSnaps := baseSnapshots(t, c)
	info, _ := os.ReadFile("/proc/self/mountinfo")
	for name, n := range c.Nodes {
		vols, snaps := driverObjects(t, n.Endpoint, csiSecret)
		for _, v := range vols {
			if !wantVols[v] {
				t.Errorf("node %s: volume %s is left on the driver (no PV names it)", name, v)
			}
		}
		for _, s := range snaps {
			if !wantSnaps[s] {
				t.Errorf("node %s: snapshot %s is left on the driver (no backup keeps it as a base)", name, s)
			}
		}
		if strings.Contains(string(info), n.StateDir) {
			t.Errorf("node %s: something is still mounted under the agent's state directory %s", name, n.StateDir)
		}
		if dirs, _ := filepath.Glob(filepath.Join(n.StateDir, "mounts", "*")); len(dirs) > 0 {
			t.Errorf("node %s: mount directories left: %v", name, dirs)
		}
		recs, _ := filepath.Glob(filepath.Join(n.StateDir, "journal", "*.json"))
		for _, r := range recs {
			if !strings.HasPrefix(filepath.Base(r), "base-") {
				t.Errorf("node %s: journal record %s left", name, filepath.Base(r))
			}
		}
	}
}

// baseSnapshots are the CSI snapshots completed backups keep.
func baseSnapshots(t *testing.T, c *localcluster.Cluster) map[string]bool {
	var list v1alpha1.VolumeBackupList
	mustOK(t, "list volume backups", c.Client.List(context.Background(), &list))
	out := map[string]bool{}
	newest := map[string]v1alpha1.VolumeBackup{}
	for _, vb := range list.Items {
		if vb.Status.Phase != v1alpha1.WorkCompleted || vb.Status.CSISnapshotID == "" {
			continue
		}
		key := vb.Spec.Volume.PVC.Namespace + "/" + vb.Spec.Volume.PVC.Name
		if cur, ok := newest[key]; !ok || vb.Status.CompletionTime.After(cur.Status.CompletionTime.Time) {
			newest[key] = vb
		}
	}
	for _, vb := range newest {
		out[vb.Status.CSISnapshotID] = true
	}
	return out
}

// driverObjects lists a driver's volume and snapshot IDs.
func driverObjects(t *testing.T, endpoint string, secrets map[string]string) (vols, snaps []string) {
	t.Helper()
	cc, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	mustOK(t, "dial the driver", err)
	defer cc.Close()
	ctl := csispec.NewControllerClient(cc)
	vr, err := ctl.ListVolumes(context.Background(), &csispec.ListVolumesRequest{})
	mustOK(t, "list volumes", err)
	for _, e := range vr.Entries {
		vols = append(vols, e.Volume.VolumeId)
	}
	sr, err := ctl.ListSnapshots(context.Background(), &csispec.ListSnapshotsRequest{Secrets: secrets})
	mustOK(t, "list snapshots", err)
	for _, e := range sr.Entries {
		snaps = append(snaps, e.Snapshot.SnapshotId)
	}
	return vols, snaps
}
