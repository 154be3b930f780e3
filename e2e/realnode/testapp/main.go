// Command testapp is the application the real-node suite backs up: a
// static binary that appends checksummed, sequence-numbered records to a
// file on a filesystem volume and to a file on an ext4 file system it
// mounts from a block volume, as fast as it can, and serves an HTTP
// control endpoint on the pod's loopback.
//
// Subcommands:
//
//	run     the application (the container's entrypoint)
//	freeze  the pre-hook: quiesce the filesystem volume's writer through
//	        HTTP, then FIFREEZE the block volume's file system
//	thaw    the post-hook: FITHAW, then resume the writer
//	status  print the application's state as JSON (records written, the
//	        hook times, the check of the files it found at start)
//	scan    check record files and count the records stamped inside a
//	        time window (the freeze)
//	pause   sleep until killed: the pod sandbox's pause process
//
// The freeze and thaw times are recorded by the application itself (the
// hook commands report them to it), so the test reads the real freeze
// window from the pod.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testapp run|freeze|thaw|status|pause [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "freeze":
		err = freeze(os.Args[2:])
	case "thaw":
		err = thaw(os.Args[2:])
	case "status":
		err = status(os.Args[2:])
	case "scan":
		err = scan(os.Args[2:])
	case "pause":
		pause()
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testapp:", err)
		os.Exit(1)
	}
}

// pause is PID 1 of every pod sandbox: it must only live until killed.
func pause() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
