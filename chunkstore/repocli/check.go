package repocli

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/checker"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

func newCheckCmd(g *globals) *cobra.Command {
	var readData bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Verify the repository's structure, and with --read-data every blob",
		Long: `Verify that the key files, index, packs, snapshots and trees are consistent
and that every blob a snapshot needs is stored. --read-data also downloads
every pack and verifies each blob's content, which reads the whole
repository.

Each problem is listed on stdout, and the exit code is 1 if there is any. For
every lost or corrupt blob, each snapshot and path that needs it is named
("damaged" in --json); 'cairn repo repair' rewrites those snapshots. Partial
writes and stale sessions left by processes that died are notes: prune
removes them once older than its grace period.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
				return g.check(ctx, cmd, r, readData)
			})
		},
	}
	cmd.Flags().BoolVar(&readData, "read-data", false, "also read and verify every blob")
	return cmd
}

func (g *globals) check(ctx context.Context, cmd *cobra.Command, r *repo.Repository, readData bool) error {
	var done, total atomic.Int64
	opts := checker.Options{ReadData: readData}
	if readData {
		opts.Progress = func(d, t int64) { done.Store(d); total.Store(t) }
	}
	stop := startProgress(cmd, "check", func() (int64, int64) { return done.Load(), total.Load() })
	rep, err := checker.Check(ctx, r, opts)
	stop()
	if err != nil {
		return err
	}
	if rep.Problems == nil {
		rep.Problems = []checker.Problem{}
	}
	if rep.Notes == nil {
		rep.Notes = []string{}
	}
	w := cmd.OutOrStdout()
	if g.json {
		if err := writeJSON(w, checkJSON{OK: rep.OK(), Report: rep}); err != nil {
			return err
		}
	} else {
		printReport(w, r.Location(), rep)
	}
	if !rep.OK() {
		return fmt.Errorf("check found %s in %s (listed above)", plural(len(rep.Problems), "problem", "problems"), r.Location())
	}
	return nil
}

// checkJSON is the --json output: the checker's report plus "ok".
type checkJSON struct {
	OK bool `json:"ok"`
	*checker.Report
}

func printReport(w io.Writer, loc string, rep *checker.Report) {
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "problem: %s: %s\n", p.Object, p.Message)
	}
	summary := fmt.Sprintf("%d snapshots, %d packs, %d blobs", rep.Snapshots, rep.Packs, rep.Blobs)
	if rep.BytesRead > 0 {
		summary += fmt.Sprintf(", %s read", formatBytes(rep.BytesRead))
	}
	if rep.OK() {
		fmt.Fprintf(w, "no problems found in %s: %s\n", loc, summary)
	} else {
		fmt.Fprintf(w, "%s found in %s: %s\n", plural(len(rep.Problems), "problem", "problems"), loc, summary)
	}
}
