package repocli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

type restoreFlags struct {
	target  string
	include string
	workers int
}

func newRestoreCmd(g *globals) *cobra.Command {
	f := &restoreFlags{}
	cmd := &cobra.Command{
		Use:   "restore SNAPSHOT --target DIR [--include PATH]",
		Short: "Restore a snapshot, or one path of it, into a directory",
		Long: `Restore a snapshot into --target, which is created if missing. SNAPSHOT is
"latest", an ID, or a unique ID prefix. --include restores only one path of
the snapshot (as shown by 'cairn repo ls'), placed under the target by its
own name. A block snapshot may also be restored onto a file or device.

Entries whose metadata (owner, xattrs, device nodes) could not be restored
are listed on stderr, and the exit code is 3.`,
		Example: "  cairn repo restore latest --target /tmp/restore --include /data/db",
		Args:    exactArgs(1, "exactly one SNAPSHOT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkCount(cmd, "workers", f.workers); err != nil {
				return err
			}
			return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
				return g.restore(ctx, cmd, r, args[0], f)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.target, "target", "t", "", "directory to restore into (required)")
	fl.StringVar(&f.include, "include", "", "restore only this path of the snapshot")
	fl.IntVar(&f.workers, "workers", 0, "packs fetched at once (default: one per CPU for a local repository, 8 or more for S3)")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

type restoreJSON struct {
	SnapshotID      string   `json:"snapshot_id"`
	Target          string   `json:"target"`
	Include         string   `json:"include,omitempty"`
	Files           int64    `json:"files"`
	Dirs            int64    `json:"dirs"`
	Bytes           int64    `json:"bytes"`
	DurationSeconds float64  `json:"duration_seconds"`
	Warnings        []string `json:"warnings"`
}

func (g *globals) restore(ctx context.Context, cmd *cobra.Command, r *repo.Repository, ref string, f *restoreFlags) error {
	snap, err := snapshot.Find(ctx, r, ref)
	if err != nil {
		return err
	}
	prog := &restorer.Progress{}
	stop := startProgress(cmd, "restore", func() (int64, int64) {
		return prog.BytesDone.Load(), prog.BytesTotal.Load()
	})
	start := time.Now()
	workers := f.workers
	if workers == 0 && g.remote() {
		workers = restorer.RemoteWorkers
	}
	res, err := restorer.Restore(ctx, r, snap.Snapshot,
		restorer.Options{Target: f.target, Include: f.include, Workers: workers, Progress: prog})
	stop()
	if err != nil {
		return err
	}
	out := restoreJSON{SnapshotID: snap.ID.String(), Target: f.target, Include: f.include,
		Files: res.Files, Dirs: res.Dirs, Bytes: res.Bytes,
		DurationSeconds: time.Since(start).Seconds(), Warnings: []string{}}
	for _, w := range res.Warnings {
		out.Warnings = append(out.Warnings, w.Error())
	}
	return g.reportRestore(cmd, snap, out)
}

func (g *globals) reportRestore(cmd *cobra.Command, snap snapshot.Stored, out restoreJSON) error {
	if g.json {
		if err := writeJSON(cmd.OutOrStdout(), out); err != nil {
			return err
		}
	} else {
		d := time.Duration(out.DurationSeconds * float64(time.Second))
		fmt.Fprintf(cmd.OutOrStdout(), "restored snapshot %s to %s: %d files, %d dirs, %s in %s, %s\n",
			snap.ID.Short(), out.Target, out.Files, out.Dirs, formatBytes(out.Bytes), formatDuration(d), formatRate(out.Bytes, d))
	}
	for _, msg := range out.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "cairn: warning: %s\n", msg)
	}
	if n := len(out.Warnings); n > 0 {
		return warningsError("restore finished, but %s could not be fully restored (listed above)", plural(n, "entry", "entries"))
	}
	return nil
}
