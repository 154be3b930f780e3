package repocli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

func newSnapshotsCmd(g *globals) *cobra.Command {
	var tags []string
	cmd := &cobra.Command{
		Use:   "snapshots",
		Short: "List snapshots, oldest first",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkTags(cmd, "tag", tags); err != nil {
				return err
			}
			return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
				return g.listSnapshots(ctx, cmd, r, tags)
			})
		},
	}
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "only snapshots with this tag, key=value (repeatable: all must match)")
	return cmd
}

// snapshotJSON is one snapshot in --json output.
type snapshotJSON struct {
	ID       string         `json:"id"`
	ShortID  string         `json:"short_id"`
	Time     time.Time      `json:"time"`
	EndTime  time.Time      `json:"end_time"`
	Hostname string         `json:"hostname"`
	Kind     string         `json:"kind"`
	Paths    []string       `json:"paths"`
	Tags     []string       `json:"tags"`
	Parent   string         `json:"parent,omitempty"`
	Stats    snapshot.Stats `json:"stats"`
}

func (g *globals) listSnapshots(ctx context.Context, cmd *cobra.Command, r *repo.Repository, tags []string) error {
	all, err := snapshot.List(ctx, r)
	if err != nil {
		return err
	}
	var sel []snapshot.Stored
	for _, s := range all.Snapshots {
		if hasTags(s.Snapshot, tags) {
			sel = append(sel, s)
		}
	}
	if g.json {
		out := make([]snapshotJSON, 0, len(sel))
		for _, s := range sel {
			out = append(out, toSnapshotJSON(s))
		}
		if err := writeJSON(cmd.OutOrStdout(), out); err != nil {
			return err
		}
	} else {
		printSnapshots(cmd.OutOrStdout(), sel)
	}
	return reportDamaged(cmd, all.Damaged)
}

// reportDamaged lists damaged snapshot records on stderr, each with its
// fix, and makes the exit code 3: the command finished, but not every
// record could be read.
func reportDamaged(cmd *cobra.Command, damaged []snapshot.Damaged) error {
	for _, d := range damaged {
		warnf(cmd, "%s", d)
	}
	if len(damaged) == 0 {
		return nil
	}
	return warningsError("%s could not be read (listed above)", plural(len(damaged), "snapshot record", "snapshot records"))
}

func hasTags(s *snapshot.Snapshot, tags []string) bool {
	for _, t := range tags {
		if !s.HasTag(t) {
			return false
		}
	}
	return true
}

func toSnapshotJSON(s snapshot.Stored) snapshotJSON {
	out := snapshotJSON{ID: s.ID.String(), ShortID: s.ID.Short(), Time: s.Time, EndTime: s.EndTime,
		Hostname: s.Hostname, Kind: s.Kind, Paths: s.Paths, Tags: s.Tags, Stats: s.Stats}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if s.Parent != nil {
		out.Parent = s.Parent.String()
	}
	return out
}

func printSnapshots(w io.Writer, list []snapshot.Stored) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tHOST\tKIND\tPATHS\tTAGS\tSIZE")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID.Short(), s.Time.Local().Format("2006-01-02 15:04:05"),
			s.Hostname, s.Kind, strings.Join(s.Paths, ","), strings.Join(s.Tags, ","), formatBytes(s.Stats.Bytes))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, plural(len(list), "snapshot", "snapshots"))
}
