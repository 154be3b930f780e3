// Command cairn is the cairn command-line interface. "cairn repo" works with
// a repository directly; the commands live in chunkstore/repocli.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repocli"
)

func main() {
	os.Exit(run())
}

func run() int {
	// A first Ctrl-C cancels the work cleanly (sessions are ended, uploaded
	// packs are reused next time); the default handler takes a second one.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done() // ends at the latest when run returns and stop cancels ctx
		stop()
	}()
	root := &cobra.Command{
		Use:           "cairn",
		Short:         "cairn backs up Kubernetes clusters and their volumes",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.AddCommand(repocli.NewCommand())
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cairn: %s\n", err)
	}
	return repocli.ExitCode(err)
}
