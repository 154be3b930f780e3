package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// interruptedError reports that the user stopped waiting; the operation
// goes on in the cluster.
type interruptedError struct{ msg string }

func (e *interruptedError) Error() string { return e.msg }

// follow polls until the operation ends, showing its progress. Ctrl-C
// (the command's context) stops the waiting, never the operation.
func (e *env) follow(cmd *cobra.Command, what, name, hint string, poll func(context.Context) (progressState, error)) error {
	ctx := ctxOf(cmd)
	d := e.newDisplay(what, name)
	defer d.stop()
	for {
		s, err := poll(ctx)
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return &interruptedError{fmt.Sprintf("stopped waiting; %s %s goes on in the cluster: %s", what, name, hint)}
		}
		if err != nil {
			return err
		}
		d.update(s)
		if s.ended {
			return nil
		}
		select {
		case <-ctx.Done():
			return &interruptedError{fmt.Sprintf("stopped waiting; %s %s goes on in the cluster: %s", what, name, hint)}
		case <-time.After(e.cfg.PollInterval):
		}
	}
}

// waitBackup follows a backup and reports how it ended; any end but
// Completed is an error.
func (e *env) waitBackup(cmd *cobra.Command, name string) error {
	var b v1alpha1.Backup
	hint := fmt.Sprintf("follow it with `cairn backup describe %s`, stop it with `cairn backup cancel %s`", name, name)
	err := e.follow(cmd, "backup", name, hint, func(ctx context.Context) (progressState, error) {
		if err := e.get(ctx, backupKind, name, &b); err != nil {
			return progressState{}, err
		}
		items, err := e.volumeBackups(cmd, name)
		if err != nil {
			return progressState{}, err
		}
		s := progressState{phase: orNew(b.Status.Phase), ended: b.Status.Phase.Done()}
		for _, vb := range items {
			s.vols = append(s.vols, workState(pvcKey(vb.Spec.Volume.PVC), vb.Spec.NodeName, vb.Status))
		}
		return s, nil
	})
	if err != nil {
		return err
	}
	st := b.Status
	summary := fmt.Sprintf("%d API objects, %d of %d volumes, %s", st.ItemsBackedUp, st.VolumesCompleted, st.VolumesTotal, size(st.Progress.BytesDone))
	if st.StartTime != nil && st.CompletionTime != nil {
		summary += " in " + st.CompletionTime.Sub(st.StartTime.Time).Round(time.Second).String()
	}
	if st.Phase == v1alpha1.BackupCompleted {
		printf(e.cfg.Out, "Backup %q Completed: %s.\n", name, summary)
		return nil
	}
	return fmt.Errorf("backup %q ended %s (%s)%s; see `cairn backup describe %s`", name, st.Phase, summary, firstErrors(st.Errors), name)
}

// waitRestore follows a restore like waitBackup.
func (e *env) waitRestore(cmd *cobra.Command, name string) error {
	var rs v1alpha1.Restore
	hint := fmt.Sprintf("follow it with `cairn restore describe %s`", name)
	err := e.follow(cmd, "restore", name, hint, func(ctx context.Context) (progressState, error) {
		if err := e.get(ctx, restoreKind, name, &rs); err != nil {
			return progressState{}, err
		}
		items, err := e.volumeRestores(cmd, name)
		if err != nil {
			return progressState{}, err
		}
		s := progressState{phase: orNew(rs.Status.Phase), ended: rs.Status.Phase.Done()}
		for _, vr := range items {
			s.vols = append(s.vols, workState(pvcKey(vr.Spec.Target.PVC), vr.Spec.NodeName, vr.Status))
		}
		return s, nil
	})
	if err != nil {
		return err
	}
	st := rs.Status
	c := st.Counts
	summary := fmt.Sprintf("%d created, %d updated, %d skipped, %d failed; %d of %d volumes, %s",
		c.Created, c.Updated, c.Skipped, c.Failed, st.VolumesCompleted, st.VolumesTotal, size(st.Progress.BytesDone))
	if st.Phase == v1alpha1.RestoreCompleted {
		printf(e.cfg.Out, "Restore %q Completed: %s.\n", name, summary)
		return nil
	}
	return fmt.Errorf("restore %q ended %s (%s)%s; see `cairn restore describe %s`", name, st.Phase, summary, firstErrors(st.Errors), name)
}

func workState(key, node string, st v1alpha1.WorkStatus) volumeState {
	return volumeState{key: key, node: node, phase: orText(string(st.Phase), string(v1alpha1.WorkPending)),
		done: st.Progress.BytesDone, total: st.Progress.BytesTotal, bps: st.Progress.BytesPerSecond, ended: st.Phase.Done()}
}

// firstErrors quotes up to three errors.
func firstErrors(errs []string) string {
	if len(errs) == 0 {
		return ""
	}
	if len(errs) > 3 {
		return ": " + strings.Join(errs[:3], "; ") + fmt.Sprintf("; and %d more", len(errs)-3)
	}
	return ": " + strings.Join(errs, "; ")
}
