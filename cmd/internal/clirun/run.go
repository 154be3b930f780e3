package clirun

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
)

// Run executes root under a context that the first Ctrl-C or SIGTERM
// cancels (sessions are ended cleanly and uploaded packs are reused next
// time; the default handler takes a second one). An error is printed as
// "name: error"; the result is exitCode's for it.
func Run(name string, root *cobra.Command, exitCode func(error) int) int {
	setGCPercent()
	if stop := startProfile(name); stop != nil {
		defer stop()
	}
	defer writeHeapProfile(name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done() // ends at the latest when Run returns and stop cancels ctx
		stop()
	}()
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, err)
	}
	return exitCode(err)
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
func startProfile(name string) func() {
	path := os.Getenv("CAIRN_CPUPROFILE")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: CAIRN_CPUPROFILE: %s\n", name, err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "%s: CAIRN_CPUPROFILE: %s\n", name, err)
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
func writeHeapProfile(name string) {
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
		fmt.Fprintf(os.Stderr, "%s: CAIRN_MEMPROFILE: %s\n", name, err)
	}
}
