// Command cairn is the cairn command-line interface. The cluster commands
// (install, location, backup, restore, schedule) live in controlplane/cli;
// "cairn repo" works with a repository directly, from chunkstore/repocli.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repocli"
	"github.com/cairnbackup/cairn/controlplane/cli"
	"github.com/cairnbackup/cairn/csi/check"
)

func main() {
	os.Exit(run())
}

func run() int {
	setGCPercent()
	if stopProfile := startProfile(); stopProfile != nil {
		defer stopProfile()
	}
	defer writeHeapProfile()
	// A first Ctrl-C cancels the work cleanly (sessions are ended, uploaded
	// packs are reused next time); the default handler takes a second one.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done() // ends at the latest when run returns and stop cancels ctx
		stop()
	}()
	root := cli.NewCommand(cli.Config{Extra: []*cobra.Command{repocli.NewCommand(), check.NewCommand()}})
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cairn: %s\n", err)
	}
	return exitCode(err)
}

// exitCode is the cluster CLI's code (0, 1, 2), or the repository CLI's
// own (3: finished with unreadable entries) for what cairn repo returns.
func exitCode(err error) int {
	if code := cli.ExitCode(err); code != cli.ExitError {
		return code
	}
	return repocli.ExitCode(err)
}

// gcPercent is the collector's default here, in place of Go's 100. The
// data path keeps its large buffers in pools and most of what is live is
// pointer-free bytes, cheap to collect, so collecting at 1.5x the live heap
// instead of 2x costs little CPU and trims peak memory by up to a quarter.
// GOGC in the environment still wins.
const gcPercent = 50

func setGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
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

// writeHeapProfile writes an allocation profile to the file named by
// CAIRN_MEMPROFILE when the command ends, the memory side of CAIRN_CPUPROFILE.
func writeHeapProfile() {
	path := os.Getenv("CAIRN_MEMPROFILE")
	if path == "" {
		return
	}
	runtime.GC() // the profile shows allocations up to the last collection
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cairn: CAIRN_MEMPROFILE: %s\n", err)
	}
}
