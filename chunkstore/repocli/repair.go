package repocli

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repairer"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

func newRepairCmd(g *globals) *cobra.Command {
	var opts repairer.Options
	cmd := &cobra.Command{
		Use:   "repair [--apply] [--read-data] [--salvage]",
		Short: "Rebuild the index from the packs and rewrite snapshots that need lost data",
		Long: `Mend a damaged repository. Without --apply nothing is written: the command
reports what it would do.

The index is rebuilt from the packs themselves: packs the index lists but
the store lacks drop out of it, and so, with --read-data (which reads every
pack whole), do blobs that fail verification, so the next backup that reads
their data stores it again. Damaged index files are replaced.

Every snapshot is then walked against the new index, and each file and
directory that needs a lost blob is listed. With --apply, each damaged
snapshot is written again without its lost files, tagged repaired=<ID of
the original>; the original is kept until you forget it. With --salvage,
damaged files are kept instead, with what can still be read of them and
holes (zeros) where their data is lost.

A snapshot record that is itself damaged cannot be rewritten; remove it with
'cairn repo forget'. A damaged key file is removed with 'cairn repo key
remove'. Repair does not run beside a prune.`,
		Example: "  cairn repo repair --repo /srv/backups                 # what is damaged, and what a repair would do\n" +
			"  cairn repo repair --repo /srv/backups --read-data --apply",
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
				return g.repair(ctx, cmd, r, opts)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Apply, "apply", false, "write the new index and the repaired snapshots (default: report only)")
	fl.BoolVar(&opts.ReadData, "read-data", false, "read every pack whole and treat blobs that fail verification as lost")
	fl.BoolVar(&opts.Salvage, "salvage", false, "keep damaged files with their readable parts instead of dropping them")
	return cmd
}

func (g *globals) repair(ctx context.Context, cmd *cobra.Command, r *repo.Repository, opts repairer.Options) error {
	var done, total atomic.Int64
	if opts.ReadData {
		opts.Progress = func(d, t int64) { done.Store(d); total.Store(t) }
	}
	stop := startProgress(cmd, "repair", func() (int64, int64) { return done.Load(), total.Load() })
	rep, err := repairer.Repair(ctx, r, opts)
	stop()
	if err != nil {
		return err
	}
	if g.json {
		return writeJSON(cmd.OutOrStdout(), rep)
	}
	printRepair(cmd.OutOrStdout(), rep, opts)
	return nil
}

func printRepair(w io.Writer, rep *repairer.Report, opts repairer.Options) {
	would := map[bool]string{false: "would ", true: ""}[rep.Applied]
	for _, p := range rep.PacksMissing {
		fmt.Fprintf(w, "pack %s: listed by the index, missing from the store: %sdropped from the index\n", p.Short(), would)
	}
	for _, p := range rep.PacksUnreadable {
		fmt.Fprintf(w, "pack %s: unreadable: %s\n", p.Pack.Short(), p.Why)
	}
	for _, b := range rep.BlobsCorrupt {
		fmt.Fprintf(w, "blob %s in pack %s: corrupt (%s): %sdropped from the index\n", b.Blob.Short(), b.Pack.Short(), b.Why, would)
	}
	for _, id := range rep.IndexFilesDamaged {
		fmt.Fprintf(w, "index file %s: damaged: %sreplaced\n", id.Short(), would)
	}
	fmt.Fprintf(w, "index: %d packs read; %s %d index files by %s\n", rep.Packs,
		map[bool]string{false: "would replace", true: "replaced"}[rep.Applied], rep.IndexFilesReplaced, plural(max(rep.IndexFilesWritten, 1), "new one", "new ones"))
	for _, s := range rep.Snapshots {
		printSnapshotRepair(w, s, opts, would)
	}
	for _, id := range rep.SnapshotsUnreadable {
		fmt.Fprintf(w, "snapshot %s: the record itself is damaged and cannot be rewritten; remove it with 'cairn repo forget %s'\n", id.Short(), id.Short())
	}
	switch {
	case len(rep.Snapshots) == 0 && len(rep.SnapshotsUnreadable) == 0:
		fmt.Fprintln(w, "every snapshot is whole")
	case !rep.Applied:
		fmt.Fprintln(w, "dry run: nothing was written; run again with --apply to write the new index and the repaired snapshots")
	}
}

func printSnapshotRepair(w io.Writer, s repairer.SnapshotRepair, opts repairer.Options, would string) {
	fmt.Fprintf(w, "snapshot %s: %s damaged:\n", s.ID.Short(), plural(len(s.Damaged), "path", "paths"))
	for _, l := range s.Damaged {
		path := l.Path
		if path == "" {
			path = "/"
		}
		fate := "dropped"
		if l.Salvaged {
			fate = "kept, with holes"
		}
		fmt.Fprintf(w, "  %s: blob %s: %s (%s%s)\n", path, l.Blob.Short(), l.Why, would, fate)
	}
	switch {
	case s.Unrepairable:
		fmt.Fprintf(w, "  its root listing is lost: nothing of it can be rewritten; forget it with 'cairn repo forget %s'\n", s.ID.Short())
	case s.AlreadyRepaired:
		fmt.Fprintf(w, "  already repaired: a snapshot tagged %s=%s exists\n", repairer.Tag, s.ID.Short())
	case s.Repaired != nil:
		fmt.Fprintf(w, "  repaired as snapshot %s, tagged %s=%s; the original is kept until you forget it\n", s.Repaired.Short(), repairer.Tag, s.ID.Short())
	default:
		how := "without the damaged files"
		if opts.Salvage {
			how = "with what can be read of them"
		}
		fmt.Fprintf(w, "  would be rewritten %s, tagged %s=%s\n", how, repairer.Tag, s.ID.Short())
	}
}
