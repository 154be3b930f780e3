package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/manifest"
)

func newBackupCancelCmd(e *env) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "cancel NAME",
		Short: "Stop a running backup",
		Long: `Ask the controller to stop a running backup: its unfinished volumes are
canceled (the node agents stop and release their snapshots) and it ends
Failed, reason Canceled. A backup in its freeze window stops once the window
closes, so the post-hooks always run. The Backup stays; delete it with
cairn backup delete.`,
		Args:              exactArgs(1, "one backup NAME"),
		ValidArgsFunction: e.completeNames(backupKind),
		RunE:              func(cmd *cobra.Command, args []string) error { return e.runBackupCancel(cmd, args[0], wait) },
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the backup has stopped")
	return cmd
}

func (e *env) runBackupCancel(cmd *cobra.Command, name string, wait bool) error {
	ctx := ctxOf(cmd)
	var b v1alpha1.Backup
	if err := e.get(ctx, backupKind, name, &b); err != nil {
		return err
	}
	if b.Status.Phase.Done() {
		return fmt.Errorf("backup %q already ended %s; there is nothing to cancel (delete it with `cairn backup delete %s`)", name, b.Status.Phase, name)
	}
	c, err := e.kube()
	if err != nil {
		return err
	}
	patch := client.MergeFrom(b.DeepCopy())
	if b.Annotations == nil {
		b.Annotations = map[string]string{}
	}
	b.Annotations[v1alpha1.AnnotationCancel] = e.cfg.Now().UTC().Format(time.RFC3339)
	if err := c.Patch(ctx, &b, patch); err != nil {
		return fmt.Errorf("request the cancel of backup %s/%s: %w", e.namespace, name, err)
	}
	printf(e.cfg.Out, "Cancel of backup %q requested; the controller stops its volumes and ends it Failed.\n", name)
	if !wait {
		return nil
	}
	for !b.Status.Phase.Done() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting; backup %s is being canceled in the cluster", name)
		case <-time.After(e.cfg.PollInterval):
		}
		if err := e.get(ctx, backupKind, name, &b); err != nil {
			return err
		}
	}
	printf(e.cfg.Out, "Backup %q ended %s.\n", name, b.Status.Phase)
	return nil
}

func newBackupLogsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "logs NAME",
		Short: "Print a backup's log from its location's repository",
		Long: `Print the log the controller stored with the backup's manifest in the
location's repository: what was saved and every warning and error. The
repository is opened read-only from this machine with the location's
Secrets, so the location must be reachable from here. A backup that has not
finished, or ended before writing its manifest, has no stored log; its
status is printed in the same shape instead.`,
		Args:              exactArgs(1, "one backup NAME"),
		ValidArgsFunction: e.completeNames(backupKind),
		RunE:              func(cmd *cobra.Command, args []string) error { return e.runBackupLogs(cmd, args[0]) },
	}
}

func (e *env) runBackupLogs(cmd *cobra.Command, name string) error {
	ctx := ctxOf(cmd)
	var b v1alpha1.Backup
	if err := e.get(ctx, backupKind, name, &b); err != nil {
		return err
	}
	if b.Status.ManifestID == "" {
		printf(e.cfg.Err, "Backup %q is %s and has no log in its repository yet; showing its status.\n", name, orNew(b.Status.Phase))
		for _, l := range statusLog(&b) {
			printf(e.cfg.Out, "%s\n", l)
		}
		return nil
	}
	lines, err := e.storedLog(cmd, &b)
	if err != nil {
		return err
	}
	for _, l := range lines {
		printf(e.cfg.Out, "%s\n", l)
	}
	return nil
}

// storedLog reads the backup's manifest from its repository.
func (e *env) storedLog(cmd *cobra.Command, b *v1alpha1.Backup) ([]string, error) {
	ctx := ctxOf(cmd)
	locName := orDefault(b.Spec.LocationName)
	var loc v1alpha1.BackupLocation
	if err := e.get(ctx, locationKind, locName, &loc); err != nil {
		return nil, fmt.Errorf("read the log of backup %s: %w", b.Name, err)
	}
	// Read-only, so that opening never initialises a repository.
	loc.Spec.AccessMode = v1alpha1.AccessReadOnly
	c, err := e.kube()
	if err != nil {
		return nil, err
	}
	rp, err := (&locations.Opener{Client: c}).Open(ctx, &loc)
	if err != nil {
		return nil, fmt.Errorf("open the repository of location %s to read the log of backup %s: %w; check the location with `cairn location describe %s`",
			locName, b.Name, err, locName)
	}
	defer rp.Close()
	id, err := core.ParseID(b.Status.ManifestID)
	if err != nil {
		return nil, fmt.Errorf("backup %s records a malformed manifest ID: %w", b.Name, err)
	}
	m, err := manifest.Load(ctx, rp, id)
	if err != nil {
		return nil, fmt.Errorf("read the log of backup %s from location %s: %w", b.Name, locName, err)
	}
	return m.Log, nil
}

// statusLog renders a backup's status in the shape of its stored log.
func statusLog(b *v1alpha1.Backup) []string {
	out := []string{fmt.Sprintf("backup %s/%s: %s, %d API objects in snapshot %s", b.Namespace, b.Name, orNew(b.Status.Phase),
		b.Status.ItemsBackedUp, orNone(b.Status.ResourcesSnapshotID))}
	for _, v := range b.Status.VolumeSnapshots {
		out = append(out, fmt.Sprintf("volume %s/%s: %s via %s, snapshot %s, %d bytes",
			v.PVC.Namespace, v.PVC.Name, orNone(string(v.Phase)), orNone(string(v.DataPath)), orNone(v.SnapshotID), v.Bytes))
	}
	for _, w := range b.Status.Warnings {
		out = append(out, "warning: "+w)
	}
	for _, er := range b.Status.Errors {
		out = append(out, "error: "+er)
	}
	return out
}

func orDefault(loc string) string {
	if loc == "" {
		return "default"
	}
	return loc
}

func orNew[P ~string](p P) string {
	if p == "" {
		return "New"
	}
	return string(p)
}
