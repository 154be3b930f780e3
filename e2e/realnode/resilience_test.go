//go:build realnode

package realnode

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// agentKilledMidItem backs the restored application up and, once the
// block volume's snapshot is cut and its data is moving, deletes the agent
// pod with no grace period. The DaemonSet brings a new agent up, which
// cleans up what the killed one held and takes the item over; the backup
// completes, and nothing of the killed run is left on the node.
func agentKilledMidItem(ctx context.Context, t *testing.T, c client.Client, name string, keepVolumes int) {
	cairnCLI(ctx, t, "backup", "create", name, "--include-namespaces", restoredNamespace)
	var victim string
	if err := waitFor(2*time.Minute, "the block volume's data moving", func() (bool, error) {
		it, err := blockItem(ctx, c, name)
		if err != nil {
			return false, err
		}
		if it.Status.Phase == v1alpha1.WorkCompleted {
			return false, fmt.Errorf("item %s completed before the agent could be killed", it.Name)
		}
		victim = agentOf(it)
		return it.Status.Phase == v1alpha1.WorkInProgress && snapshotTaken(it) && victim != "", fmt.Errorf("phase %s", it.Status.Phase)
	}); err != nil {
		t.Fatal(err)
	}
	zero := int64(0)
	if err := cluster.Kube.CoreV1().Pods(cairnNamespace).Delete(ctx, victim, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	t.Logf("deleted agent pod %s (--grace-period=0 --force) while it moved the block volume", victim)
	t0 := time.Now()
	if err := waitFor(4*time.Minute, "backup "+name+" completed", func() (bool, error) {
		var b v1alpha1.Backup
		if err := c.Get(ctx, client.ObjectKey{Namespace: cairnNamespace, Name: name}, &b); err != nil {
			return false, err
		}
		if b.Status.Phase == v1alpha1.BackupFailed || b.Status.Phase == v1alpha1.BackupPartiallyFailed {
			return false, fmt.Errorf("backup ended %s", b.Status.Phase)
		}
		return b.Status.Phase == v1alpha1.BackupCompleted, fmt.Errorf("phase %s", b.Status.Phase)
	}); err != nil {
		t.Fatal(err)
	}
	it, err := blockItem(ctx, c, name)
	if err != nil {
		t.Fatal(err)
	}
	if agentOf(it) == victim {
		t.Errorf("item %s finished by the killed agent %s", it.Name, victim)
	}
	t.Logf("a new agent (%s) completed the item %s after the kill", it.Status.Agent, time.Since(t0).Round(time.Millisecond))
	leftoversOnNode(t, keepVolumes)
}

func blockItem(ctx context.Context, c client.Client, backup string) (*v1alpha1.VolumeBackup, error) {
	var items v1alpha1.VolumeBackupList
	if err := c.List(ctx, &items, client.InNamespace(cairnNamespace), client.MatchingLabels{v1alpha1.LabelBackup: backup}); err != nil {
		return nil, err
	}
	for i := range items.Items {
		if items.Items[i].Spec.Volume.PVC.Name == "block" {
			return &items.Items[i], nil
		}
	}
	return nil, fmt.Errorf("backup %s has no item for the block volume yet", backup)
}

func snapshotTaken(it *v1alpha1.VolumeBackup) bool {
	for _, c := range it.Status.Conditions {
		if c.Type == v1alpha1.ConditionSnapshotTaken {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// agentOf is the pod name in an item's owner, <node>/<pod>/<random>.
func agentOf(it *v1alpha1.VolumeBackup) string {
	parts := strings.Split(it.Status.Agent, "/")
	if len(parts) != 3 {
		return ""
	}
	return parts[1]
}

// scheduleOnRealTime lets a schedule run every minute until it has made
// three backups, with retention keeping the last two: the oldest is
// deleted once the third completes, and the two newest stay.
func scheduleOnRealTime(ctx context.Context, t *testing.T, c client.Client) {
	const name = "every-minute"
	cairnCLI(ctx, t, "schedule", "create", name, "--schedule", "* * * * *", "--include-namespaces", restoredNamespace, "--keep-last", "2")
	seen := map[string]bool{}
	var kept []string
	err := waitFor(5*time.Minute, "three scheduled backups, two kept", func() (bool, error) {
		var bl v1alpha1.BackupList
		if err := c.List(ctx, &bl, client.InNamespace(cairnNamespace), client.MatchingLabels{v1alpha1.LabelSchedule: name}); err != nil {
			return false, err
		}
		kept = kept[:0]
		for _, b := range bl.Items {
			seen[b.Name] = true
			if b.DeletionTimestamp == nil {
				kept = append(kept, b.Name+"="+string(b.Status.Phase))
			}
		}
		sort.Strings(kept)
		return len(seen) >= 3 && len(kept) == 2 && allCompleted(bl.Items), fmt.Errorf("seen %d, now %v", len(seen), kept)
	})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	if want := []string{names[len(names)-2] + "=Completed", names[len(names)-1] + "=Completed"}; fmt.Sprint(kept) != fmt.Sprint(want) {
		t.Errorf("retention kept %v, want the two newest %v (of %v)", kept, want, names)
	}
	cairnCLI(ctx, t, "schedule", "delete", name)
	t.Logf("schedule made %v; retention kept %v", names, kept)
}

func allCompleted(bs []v1alpha1.Backup) bool {
	for _, b := range bs {
		if b.DeletionTimestamp == nil && b.Status.Phase != v1alpha1.BackupCompleted {
			return false
		}
	}
	return true
}
