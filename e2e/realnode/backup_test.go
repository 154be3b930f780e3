//go:build realnode

package realnode

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// freezeReport is what the backup's freeze looked like from the
// application.
type freezeReport struct {
	quiesced, frozen, thawing, resumed appEvent
}

func (f freezeReport) window() time.Duration {
	return time.Duration(f.resumed.UnixNano - f.quiesced.UnixNano)
}

// backupFrozen backs the application up while it writes and checks the
// freeze: the hooks ran once each, in order, through real execs; while the
// block volume's file system was frozen no write reached it; the
// snapshots were cut inside the window; the data moved after the thaw;
// the application went on writing.
func backupFrozen(ctx context.Context, t *testing.T, c client.Client, name string) freezeReport {
	t0 := time.Now()
	out := cairnCLI(ctx, t, "backup", "create", name, "--include-namespaces", appNamespace, "--wait")
	took := time.Since(t0)
	t.Logf("cairn backup create --wait (%s):\n%s", took.Round(time.Millisecond), out)
	var b v1alpha1.Backup
	if err := c.Get(ctx, client.ObjectKey{Namespace: cairnNamespace, Name: name}, &b); err != nil {
		t.Fatal(err)
	}
	if b.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("backup %s ended %s: %+v", name, b.Status.Phase, b.Status)
	}
	st, err := appStatus(ctx, appNamespace)
	if err != nil {
		t.Fatal(err)
	}
	f := freezeReport{quiesced: st.event(t, "quiesced"), frozen: st.event(t, "frozen"),
		thawing: st.event(t, "thawing"), resumed: st.event(t, "resumed")}
	if !(f.quiesced.UnixNano <= f.frozen.UnixNano && f.frozen.UnixNano <= f.thawing.UnixNano && f.thawing.UnixNano <= f.resumed.UnixNano) {
		t.Fatalf("hook events out of order: %+v", f)
	}
	fsCheck, blockCheck := appScan(ctx, t, appNamespace, f.frozen.UnixNano, f.thawing.UnixNano)
	for _, ch := range []appCheck{fsCheck, blockCheck} {
		if ch.Error != "" {
			t.Errorf("live %s: %s", ch.File, ch.Error)
		}
	}
	// The filesystem volume's writer stamps a record only while it holds
	// the quiesce gate; the block writer may stamp the one record it then
	// blocks on inside the frozen file system.
	if fsCheck.InWindow != 0 || blockCheck.InWindow > 1 {
		t.Errorf("records stamped while frozen: %d on the filesystem volume (want 0), %d on the block volume (want at most 1)",
			fsCheck.InWindow, blockCheck.InWindow)
	}
	if blockCheck.Records < f.thawing.BlockRecords+100 || fsCheck.Records < f.resumed.FSRecords+100 {
		t.Errorf("the application did not go on writing after the thaw: %d/%d records now, %d/%d at the thaw",
			fsCheck.Records, blockCheck.Records, f.resumed.FSRecords, f.thawing.BlockRecords)
	}
	checkWorkItems(ctx, t, c, name, f)
	t.Logf("freeze window (quiesce in the pre-hook to resume in the post-hook, as the application saw it): %s; "+
		"file system frozen for %s; backup took %s; %d and %d records in the snapshots' window",
		f.window().Round(time.Millisecond), time.Duration(f.thawing.UnixNano-f.frozen.UnixNano).Round(time.Millisecond),
		took.Round(time.Millisecond), f.quiesced.FSRecords, f.frozen.BlockRecords)
	leftoversOnNode(t, 2)
	return f
}

// checkWorkItems checks that each volume's snapshot was cut inside the
// freeze window, and that the thaw did not wait for the data: the block
// volume's upload (slowed by agentReadLimit to several seconds) ended well
// after the thaw. Status times have a resolution of one second. (The small
// filesystem volume may well finish moving while the block volume's
// snapshot is still being cut: the window closes when the last snapshot
// is taken.)
func checkWorkItems(ctx context.Context, t *testing.T, c client.Client, backup string, f freezeReport) {
	var items v1alpha1.VolumeBackupList
	if err := c.List(ctx, &items, client.InNamespace(cairnNamespace), client.MatchingLabels{v1alpha1.LabelBackup: backup}); err != nil {
		t.Fatal(err)
	}
	if len(items.Items) != 2 {
		t.Fatalf("backup %s has %d volume backups, want 2", backup, len(items.Items))
	}
	start := time.Unix(0, f.quiesced.UnixNano).Truncate(time.Second)
	thawed := time.Unix(0, f.resumed.UnixNano)
	for _, it := range items.Items {
		var taken *time.Time
		for _, cond := range it.Status.Conditions {
			if cond.Type == v1alpha1.ConditionSnapshotTaken && cond.Status == "True" {
				tt := cond.LastTransitionTime.Time
				taken = &tt
			}
		}
		switch {
		case it.Status.Phase != v1alpha1.WorkCompleted:
			t.Errorf("volume backup %s ended %s: %s", it.Name, it.Status.Phase, it.Status.Message)
		case taken == nil:
			t.Errorf("volume backup %s has no SnapshotTaken condition", it.Name)
		case taken.Before(start) || taken.After(thawed):
			t.Errorf("volume backup %s: snapshot taken at %s, outside the freeze window %s – %s", it.Name, taken, start, thawed)
		case it.Status.CompletionTime == nil:
			t.Errorf("volume backup %s has no completion time", it.Name)
		case it.Spec.Volume.PVC.Name == "block" && !it.Status.CompletionTime.After(thawed.Add(time.Second)):
			t.Errorf("volume backup %s completed at %s, not seconds after the thaw at %s: the freeze lasted as long as the upload",
				it.Name, it.Status.CompletionTime, thawed)
		}
		t.Logf("volume backup %s (%s): snapshot taken %s, completed %s, %d bytes", it.Name, it.Spec.Volume.PVC.Name,
			taken, it.Status.CompletionTime, it.Status.Progress.BytesDone)
	}
}
