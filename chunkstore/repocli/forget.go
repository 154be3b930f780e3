package repocli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

func newForgetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "forget SNAPSHOT...",
		Short: "Remove snapshot records; 'prune' then frees their data",
		Long: `Remove the records of the given snapshots ("latest", IDs or unique ID
prefixes). Their data stays in the repository until 'cairn repo prune'
removes what no remaining snapshot uses.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("forget needs at least one SNAPSHOT; see '%s --help'", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
				return g.forget(ctx, cmd, r, args)
			})
		},
	}
}

func (g *globals) forget(ctx context.Context, cmd *cobra.Command, r *repo.Repository, refs []string) error {
	// Resolve every reference first, so a typo in the last one removes
	// nothing.
	var ids []core.ID
	seen := map[core.ID]bool{}
	for _, ref := range refs {
		// Resolve, not Find: a damaged record, which cannot be read, must
		// still be removable by its ID.
		id, err := snapshot.Resolve(ctx, r, ref)
		if err != nil {
			return err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	removed := []string{}
	for _, id := range ids {
		if err := r.DeleteFile(ctx, repo.KindSnapshot, id); err != nil {
			return err
		}
		removed = append(removed, id.String())
		if !g.json {
			fmt.Fprintf(cmd.OutOrStdout(), "removed snapshot %s\n", id.Short())
		}
	}
	if g.json {
		return writeJSON(cmd.OutOrStdout(), map[string][]string{"removed": removed})
	}
	fmt.Fprintln(cmd.OutOrStdout(), "run 'cairn repo prune' to free the data they alone used")
	return nil
}
