// Command cairn-faults runs the fault campaign of package faults against a
// cairn binary and writes its figures to a Markdown report. make
// test-faults runs it; FAULTS_SEED and FAULTS_FULL set the seed and the
// full counts, flags everything else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/cairnbackup/cairn/chunkstore/faults"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cairn-faults:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, report, err := config()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer os.RemoveAll(cfg.Work)
	res, err := faults.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%w (seed %d)", err, cfg.Seed)
	}
	if report != "" {
		if err := faults.WriteReport(report, res); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", report)
	}
	if n := len(res.Failures); n > 0 {
		return fmt.Errorf("FAILED: %d violations (seed %d); see the log above", n, cfg.Seed)
	}
	fmt.Fprintf(os.Stderr, "PASSED in %s (seed %d)\n", res.Duration.Round(1e9), cfg.Seed)
	return nil
}

func config() (faults.Config, string, error) {
	full := os.Getenv("FAULTS_FULL") == "1"
	cfg := faults.Defaults(full)
	if s := os.Getenv("FAULTS_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cfg, "", fmt.Errorf("FAULTS_SEED=%q: not a number", s)
		}
		cfg.Seed = seed
	}
	var only, report string
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of every random choice (default: $FAULTS_SEED, else random)")
	flag.StringVar(&cfg.Cairn, "cairn", "bin/cairn", "the cairn binary to test")
	flag.StringVar(&cfg.VersityGW, "versitygw", os.Getenv("CAIRN_VERSITYGW"), "the versitygw binary (default $CAIRN_VERSITYGW)")
	flag.StringVar(&cfg.Root, "root", ".", "the module root, where the fuzz targets are")
	flag.StringVar(&cfg.Work, "work", "", "scratch directory, removed at the end (default: a new one under $TMPDIR)")
	flag.StringVar(&report, "report", "", "write the figures to this Markdown file")
	flag.IntVar(&cfg.Kills, "kills", cfg.Kills, "kills per backend")
	flag.IntVar(&cfg.Flips, "flips", cfg.Flips, "bit flips")
	flag.IntVar(&cfg.S3Backups, "s3-rounds", cfg.S3Backups, "backup rounds through the S3 fault proxy")
	flag.IntVar(&cfg.DiskSizes, "disk-sizes", cfg.DiskSizes, "free-space sizes per file system")
	flag.DurationVar(&cfg.FuzzTime, "fuzztime", cfg.FuzzTime, "time per fuzz target")
	flag.StringVar(&only, "only", "", "comma-separated scenarios to run: kills,s3,flips,disk,fuzz (default all)")
	flag.Parse()
	if flag.NArg() > 0 {
		return cfg, "", fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if only != "" {
		cfg.Only = strings.Split(only, ",")
	}
	return cfg, report, finish(&cfg)
}

// finish resolves the paths and checks the tools before anything runs: a
// missing tool is an error, never a skipped scenario.
func finish(cfg *faults.Config) error {
	var err error
	if cfg.Cairn, err = filepath.Abs(cfg.Cairn); err != nil {
		return err
	}
	if cfg.Root, err = filepath.Abs(cfg.Root); err != nil {
		return err
	}
	for _, p := range []string{cfg.Cairn, cfg.VersityGW} {
		if p == "" {
			return errors.New("no versitygw: pass -versitygw or set CAIRN_VERSITYGW (make tools installs it)")
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (make build and make tools make the binaries)", err)
		}
	}
	// The revision, for the report; "+" marks uncommitted changes.
	if out, err := exec.Command("git", "-C", cfg.Root, "describe", "--always", "--dirty=+").Output(); err == nil {
		cfg.Commit = strings.TrimSpace(string(out))
	}
	if cfg.Work == "" {
		if cfg.Work, err = os.MkdirTemp("", "cairn-faults-"); err != nil {
			return err
		}
	}
	return nil
}
