// Command cairn-demo is `make demo`: cairn's whole job on a local cluster
// (see e2e/demo). DEMO_S3=1 keeps the repository on a local versitygw.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/cairnbackup/cairn/e2e/demo"
)

func main() {
	var cfg demo.Config
	flag.StringVar(&cfg.BinDir, "bin", "bin", "directory holding the cairn and cairn-agent binaries")
	flag.BoolVar(&cfg.S3, "s3", os.Getenv("DEMO_S3") == "1", "keep the repository on a local S3 server (versitygw)")
	flag.BoolVar(&cfg.Small, "small", false, "use less data")
	flag.Parse()
	if abs, err := filepath.Abs(cfg.BinDir); err == nil {
		cfg.BinDir = abs
	}
	// Ctrl-C ends the demo early and still removes everything it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg.Out = os.Stdout
	if _, err := demo.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo: FAIL:", err)
		stop()
		os.Exit(1)
	}
}
