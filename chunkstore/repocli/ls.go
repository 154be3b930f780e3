package repocli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

func newLsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls SNAPSHOT [PATH]",
		Short: "List the files of a snapshot, recursively under PATH",
		Long: `List the files of a snapshot: mode, size, modification time, path, and
a symlink's target. SNAPSHOT is "latest", an ID, or a unique ID prefix. PATH
is a path inside the snapshot, such as /data/db; the default lists all.`,
		Args: rangeArgs(1, 2, "SNAPSHOT and an optional PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := ""
			if len(args) == 2 {
				p = args[1]
			}
			return g.withIndex(cmd, func(ctx context.Context, r *repo.Repository) error {
				return g.list(ctx, cmd, r, args[0], p)
			})
		},
	}
}

// lsJSON is one entry of --json output.
type lsJSON struct {
	Path       string    `json:"path"`
	Type       string    `json:"type"`
	Mode       string    `json:"mode"`
	Size       int64     `json:"size"`
	Mtime      time.Time `json:"mtime"`
	UID        uint32    `json:"uid"`
	GID        uint32    `json:"gid"`
	LinkTarget string    `json:"link_target,omitempty"`
}

func (g *globals) list(ctx context.Context, cmd *cobra.Command, r *repo.Repository, ref, p string) error {
	snap, err := snapshot.Find(ctx, r, ref)
	if err != nil {
		return err
	}
	start, err := resolve(ctx, r, snap.Snapshot, p)
	if err != nil {
		return fmt.Errorf("ls %s: %w", snap.ID.Short(), err)
	}
	w := cmd.OutOrStdout()
	if g.json {
		out := []lsJSON{}
		err := walk(ctx, r, start, func(e entry) error {
			out = append(out, toLsJSON(e))
			return nil
		})
		if err != nil {
			return err
		}
		return writeJSON(w, out)
	}
	return walk(ctx, r, start, func(e entry) error {
		printEntry(w, e)
		return nil
	})
}

func toLsJSON(e entry) lsJSON {
	n := e.node
	return lsJSON{Path: e.path, Type: n.Type, Mode: fmt.Sprintf("%04o", n.Mode), Size: n.Size,
		Mtime: time.Unix(0, n.MtimeNs).UTC(), UID: n.UID, GID: n.GID, LinkTarget: n.LinkTarget}
}

func printEntry(w io.Writer, e entry) {
	n := e.node
	tc, ok := typeChars[n.Type]
	if !ok {
		tc = '?'
	}
	line := fmt.Sprintf("%s %12d %s %s", formatMode(tc, n.Mode), n.Size,
		time.Unix(0, n.MtimeNs).Local().Format("2006-01-02 15:04:05"), e.path)
	if n.Type == snapshot.TypeSymlink {
		line += " -> " + n.LinkTarget
	}
	fmt.Fprintln(w, line)
}
