// Command cairn is the cairn command-line interface. "cairn repo" works with
// a repository directly; the commands live in chunkstore/repocli.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repocli"
)

func main() {
	os.Exit(run())
}

func run() int {
	if stopProfile := startProfile(); stopProfile != nil {
		defer stopProfile()
	}
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

// startProfile writes a CPU profile to the file named by CAIRN_CPUPROFILE, a
// tuning aid for `make bench` work; it returns nil when the variable is unset.
func startProfile() func() {
	path := os.Getenv("CAIRN_CPUPROFILE")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cairn: CAIRN_CPUPROFILE: %s\n", err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "cairn: CAIRN_CPUPROFILE: %s\n", err)
		f.Close()
		return nil
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
