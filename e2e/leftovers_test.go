package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	basesOf := map[string]string{}
	info, _ := os.ReadFile("/proc/self/mountinfo")
	for name, n := range c.Nodes {
		vols, snaps := driverObjects(t, n.Endpoint, csiSecret)
		for _, v := range vols {
			if !wantVols[v] {
				t.Errorf("node %s: volume %s is left on the driver (no PV names it)", name, v)
			}
		}
		for _, s := range snaps {
			claim, ok := wantSnaps[s]
			switch {
			case !ok:
				t.Errorf("node %s: snapshot %s is left on the driver (no backup keeps it as a base): %s", name, s, snapshotOwner(t, c, s))
			case basesOf[claim] != "":
				t.Errorf("node %s: claim %s keeps two base snapshots, %s and %s", name, claim, basesOf[claim], s)
			default:
				basesOf[claim] = s
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

// baseSnapshots are the CSI snapshots completed backups may keep as
// changed-block bases: at most one per claim, the newest backup's. The
// completion times have a resolution of a second, so two backups of a claim
// completed within the same second are both accepted as the newest; the
// caller still allows only one of them on the drivers.
func baseSnapshots(t *testing.T, c *localcluster.Cluster) map[string]string {
	var list v1alpha1.VolumeBackupList
	mustOK(t, "list volume backups", c.Client.List(context.Background(), &list))
	claim := func(vb v1alpha1.VolumeBackup) string {
		return vb.Spec.Volume.PVC.Namespace + "/" + vb.Spec.Volume.PVC.Name
	}
	var done []v1alpha1.VolumeBackup
	latest := map[string]time.Time{}
	for _, vb := range list.Items {
		if vb.Status.Phase != v1alpha1.WorkCompleted || vb.Status.CSISnapshotID == "" {
			continue
		}
		done = append(done, vb)
		if at := vb.Status.CompletionTime.Time; at.After(latest[claim(vb)]) {
			latest[claim(vb)] = at
		}
	}
	out := map[string]string{}
	for _, vb := range done {
		if vb.Status.CompletionTime.Time.Equal(latest[claim(vb)]) {
			out[vb.Status.CSISnapshotID] = claim(vb)
		}
	}
	return out
}

// snapshotOwner names the work item that cut a CSI snapshot, for a
// failure message.
func snapshotOwner(t *testing.T, c *localcluster.Cluster, id string) string {
	var list v1alpha1.VolumeBackupList
	mustOK(t, "list volume backups", c.Client.List(context.Background(), &list))
	for _, vb := range list.Items {
		if vb.Status.CSISnapshotID == id {
			return fmt.Sprintf("cut by %s (%s, completed %v, warnings %v)", vb.Name, vb.Status.Phase, vb.Status.CompletionTime, vb.Status.Warnings)
		}
	}
	return "no work item names it"
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
