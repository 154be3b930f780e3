package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cairnbackup/cairn/bench/harness"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == harness.LauncherArg {
		os.Exit(harness.Launch(os.Args[2:]))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cairn-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, report, err := parseFlags()
	if err != nil {
		return err
	}
	tempScratch, err := fillDirs(&cfg)
	if err != nil {
		return err
	}
	if report != "" {
		return rerender(report, cfg.Out, cfg.Root)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := harness.Run(ctx, cfg)
	if tempScratch {
		// The smoke datasets are cheap to make again; the report stays.
		_ = os.RemoveAll(filepath.Join(cfg.Scratch, "data"))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s and %s\n", filepath.Join(cfg.Out, "RESULTS.md"), filepath.Join(cfg.Out, "results.json"))
	if n := len(res.Failures); n > 0 {
		return fmt.Errorf("FAILED: %d cycle(s) failed (tool error or incorrect restore); see FAILURES in %s",
			n, filepath.Join(cfg.Out, "RESULTS.md"))
	}
	return nil
}

func parseFlags() (harness.Config, string, error) {
	var cfg harness.Config
	var configs, datasets, report string
	flag.BoolVar(&cfg.Smoke, "smoke", false, "tiny datasets, one run, output to a temporary directory unless -out is given")
	flag.StringVar(&cfg.Root, "root", "", "module root (default: found from the working directory)")
	flag.StringVar(&cfg.Scratch, "scratch", "", "dataset directory (default: ROOT/bench/scratch, or a temporary directory with -smoke)")
	flag.StringVar(&cfg.RepoDir, "repos", "", "directory for repositories and restores (default: /dev/shm if it has room)")
	flag.StringVar(&cfg.Out, "out", "", "where RESULTS.md and results.json go (default: ROOT/bench)")
	flag.IntVar(&cfg.Runs, "runs", 0, "runs per figure (default 3, 1 with -smoke)")
	flag.Int64Var(&cfg.ImageSize, "image-size", 0, "bytes of each image dataset (default 2 GiB, 64 MiB with -smoke)")
	flag.IntVar(&cfg.Files, "files", 0, "files in the tree dataset (default 60000, 2000 with -smoke)")
	flag.StringVar(&configs, "configs", "", "comma-separated configurations (default all: cairn,cairn-nocomp,restic,kopia,kopia-zstd,cairn-s3)")
	flag.StringVar(&datasets, "datasets", "", "comma-separated datasets (default all: image,vmimage,files,source)")
	flag.StringVar(&cfg.SourceTree, "source", "", "real source tree copied as dataset 4 (default: `go env GOROOT`; its src/go with -smoke)")
	flag.BoolVar(&cfg.Agent, "agent", true, "run the node-agent leg (controller, agent and CSI driver as local processes)")
	flag.StringVar(&cfg.Bins.Cairn, "cairn", "", "cairn binary (default: ROOT/bin/cairn); the agent's binaries are taken from its directory")
	flag.StringVar(&cfg.Bins.CairnRepo, "cairn-repo", "", "cairn-repo binary, which the cairn configurations run (default: cairn-repo beside -cairn), e.g. to compare two builds")
	flag.StringVar(&report, "report", "", "only render RESULTS.md from this results.json into -out, with the current bench/TUNING.md")
	flag.Parse()
	if flag.NArg() > 0 {
		return cfg, "", fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	cfg.Configs, cfg.Datasets = splitList(configs), splitList(datasets)
	if cfg.Root == "" {
		root, err := moduleRoot()
		if err != nil {
			return cfg, "", err
		}
		cfg.Root = root
	}
	return cfg, report, nil
}

// fillDirs defaults the directories. A smoke run keeps nothing: its
// datasets and results go to a temporary directory, never over RESULTS.md.
// tempScratch reports that the datasets went to a temporary directory.
func fillDirs(cfg *harness.Config) (tempScratch bool, err error) {
	if cfg.Smoke && (cfg.Scratch == "" || cfg.Out == "") {
		tmp, err := os.MkdirTemp("", "cairn-bench-smoke-")
		if err != nil {
			return false, err
		}
		if cfg.Scratch == "" {
			cfg.Scratch, tempScratch = tmp, true
		}
		if cfg.Out == "" {
			cfg.Out = filepath.Join(tmp, "out")
		}
	}
	if cfg.Scratch == "" {
		cfg.Scratch = filepath.Join(cfg.Root, "bench", "scratch")
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Join(cfg.Root, "bench")
	}
	return tempScratch, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// rerender writes RESULTS.md (and results.json) again from a results.json,
// with the tuning notes as bench/TUNING.md has them now: the notes are
// prose kept by hand, the figures are the run's.
func rerender(path, out, root string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var res harness.Results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if notes := harness.ReadNotes(root); notes != "" && !res.Smoke {
		res.Notes = notes
	}
	return harness.WriteOutputs(&res, out)
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; pass -root")
		}
		dir = parent
	}
}
