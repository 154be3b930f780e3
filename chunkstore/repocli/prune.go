package repocli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/pruner"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

func newPruneCmd(g *globals) *cobra.Command {
	var opts pruner.Options
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove data that no snapshot references",
		Long: `Remove data that no snapshot references. It is safe while backups and
restores run: packs are first marked, and deleted by a later prune once no
writer that could still use them is alive. Packs mostly unreferenced are
repacked. Partial writes (temporary files, incomplete S3 uploads) and stale
sessions of processes that died are removed once older than --grace.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkGrace(cmd, "grace", opts.Grace); err != nil {
				return err
			}
			if err := checkRatio(cmd, "repack-ratio", opts.RepackRatio); err != nil {
				return err
			}
			return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
				return g.prune(ctx, cmd, r, opts)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.DryRun, "dry-run", false, "mark what would be removed, delete nothing")
	fl.DurationVar(&opts.Grace, "grace", pruner.DefaultGrace, "keep unindexed packs younger than this (a backup may still be writing them)")
	fl.Float64Var(&opts.RepackRatio, "repack-ratio", pruner.DefaultRepackRatio, "repack a pack once this share of its bytes is unused")
	return cmd
}

func (g *globals) prune(ctx context.Context, cmd *cobra.Command, r *repo.Repository, opts pruner.Options) error {
	start := time.Now()
	res, err := pruner.Prune(ctx, r, opts)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if g.json {
		return writeJSON(w, res)
	}
	fmt.Fprintf(w, "prune: %d packs deleted (%s), %d repacked, %d marked for deletion, %d rescued, %d index files merged, %d markers pending; %s\n",
		res.PacksDeleted, formatBytes(res.BytesDeleted), res.PacksRepacked, res.PacksMarked, res.PacksRescued,
		res.IndexFilesMerged, res.MarkersPending, formatDuration(time.Since(start)))
	if res.LeftoversRemoved > 0 || res.SessionsRemoved > 0 {
		fmt.Fprintf(w, "prune: removed %s (%s) and %s of processes that died\n",
			plural(res.LeftoversRemoved, "partial write", "partial writes"), formatBytes(res.LeftoverBytesRemoved),
			plural(res.SessionsRemoved, "stale session", "stale sessions"))
	}
	if res.MarkersPending > 0 {
		fmt.Fprintln(w, "marked packs are deleted by a later prune, once no backup that started before the mark is still running")
	}
	return nil
}
