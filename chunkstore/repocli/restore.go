package repocli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

type restoreFlags struct {
	target    string
	include   string
	workers   int
	verify    bool
	overwrite bool
}

func newRestoreCmd(g *globals) *cobra.Command {
	f := &restoreFlags{}
	cmd := &cobra.Command{
		Use:   "restore SNAPSHOT --target DIR [--include PATH]",
		Short: "Restore a snapshot, or one path of it, into a directory",
		Long: `Restore a snapshot into --target, which is created if missing. SNAPSHOT is
"latest", an ID, or a unique ID prefix. --include restores only one path of
the snapshot (as shown by 'cairn repo ls'), placed under the target by its
own name. A block snapshot may also be restored onto an existing file or
block device given as --target: the image is written into it (a device must
be at least as large; its bytes outside the image's data are zeroed).

The target directory must be empty or new, unless --overwrite: then files of
the snapshot replace those of the same name, and files not in the snapshot
are left in place.

A file whose data the repository lost or holds corrupt does not stop the
restore: every other file is restored whole with its metadata, the damaged
file at its size with holes where its data is missing, and each damaged file
is listed on stderr (and under "damaged" in --json) with the blob that
failed; the exit code is then 4. --verify reads every restored file back and
checks it against the snapshot. Entries whose metadata (owner, xattrs,
device nodes) could not be restored are listed on stderr, and the exit code
is 3.`,
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
	fl.BoolVar(&f.verify, "verify", false, "read every restored file back and check it against the snapshot")
	fl.BoolVar(&f.overwrite, "overwrite", false, "restore into a target directory that is not empty, replacing files of the same names")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

type restoreJSON struct {
	SnapshotID      string        `json:"snapshot_id"`
	Target          string        `json:"target"`
	Include         string        `json:"include,omitempty"`
	Files           int64         `json:"files"`
	Dirs            int64         `json:"dirs"`
	Bytes           int64         `json:"bytes"`
	DurationSeconds float64       `json:"duration_seconds"`
	Warnings        []string      `json:"warnings"`
	Damaged         []damagedJSON `json:"damaged"`
	// Verified is the number of files --verify read back and found exact.
	Verified int64 `json:"verified,omitempty"`
}

// damagedJSON is one damaged part of a restore.
type damagedJSON struct {
	Path string `json:"path"`
	Blob string `json:"blob"`
	// Offset is where the blob belongs in the file; -1 for a directory
	// listing or a whole content list.
	Offset int64  `json:"offset"`
	Error  string `json:"error"`
}

func (g *globals) restore(ctx context.Context, cmd *cobra.Command, r *repo.Repository, ref string, f *restoreFlags) error {
	snap, err := snapshot.Find(ctx, r, ref)
	if err != nil {
		return err
	}
	if !f.overwrite {
		if err := checkTargetEmpty(f.target); err != nil {
			return err
		}
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
		restorer.Options{Target: f.target, Include: f.include, Workers: workers, Progress: prog, Verify: f.verify})
	stop()
	if err != nil {
		return err
	}
	out := restoreJSON{SnapshotID: snap.ID.String(), Target: f.target, Include: f.include,
		Files: res.Files, Dirs: res.Dirs, Bytes: res.Bytes,
		DurationSeconds: time.Since(start).Seconds(), Warnings: []string{}, Damaged: []damagedJSON{}, Verified: res.Verified}
	for _, w := range res.Warnings {
		out.Warnings = append(out.Warnings, w.Error())
	}
	for _, d := range res.Damaged {
		out.Damaged = append(out.Damaged, damagedJSON{Path: d.Path, Blob: d.Blob.String(), Offset: d.Offset, Error: d.Err.Error()})
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
	files := map[string]bool{}
	for _, d := range out.Damaged {
		files[d.Path] = true
		what := fmt.Sprintf("chunk %s at offset %d", d.Blob, d.Offset)
		if d.Offset < 0 {
			what = "blob " + d.Blob
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "cairn: damaged: %s: %s: %s\n", d.Path, what, d.Error)
	}
	if len(files) > 0 {
		return &ExitStatusError{Code: ExitDamaged, Err: fmt.Errorf("restore finished, but %s damaged (listed above): the repository lost or corrupted their data; "+
			"'cairn repo check --read-data' names every snapshot affected", plural(len(files), "file or directory is", "files or directories are"))}
	}
	if n := len(out.Warnings); n > 0 {
		return warningsError("restore finished, but %s could not be fully restored (listed above)", plural(n, "entry", "entries"))
	}
	return nil
}

// checkTargetEmpty refuses to restore into a directory that holds files,
// which a restore would silently mix with the snapshot's. A lone
// lost+found, as on a fresh file system, does not count; nor does a file
// or device, where a block image may go.
func checkTargetEmpty(target string) error {
	entries, err := os.ReadDir(target)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, e := range entries {
		if e.Name() != "lost+found" {
			return fmt.Errorf("restore: target %s is not empty (it holds %s); restore into an empty or new directory, "+
				"or pass --overwrite to replace files of the same names (files not in the snapshot are left)", target, e.Name())
		}
	}
	return nil
}
