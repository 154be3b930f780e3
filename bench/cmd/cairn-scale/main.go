package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/cairnbackup/cairn/bench/scale"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cairn-scale run|gen|lookup|plan [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var out any
	var err error
	switch os.Args[1] {
	case "run":
		out, err = run(ctx, os.Args[2:])
	case "gen":
		out, err = gen(ctx, os.Args[2:])
	case "lookup":
		out, err = lookup(ctx, os.Args[2:])
	case "plan":
		out, err = plan(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown step %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairn-scale:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// openFlags are the flags of the steps that open the repository.
func openFlags(fs *flag.FlagSet) func() (scale.OpenConfig, error) {
	dir := fs.String("repo", "", "repository directory")
	cache := fs.String("cache", "", "index cache directory")
	mem := fs.String("max-memory", "256MiB", "memory budget")
	return func() (scale.OpenConfig, error) {
		n, err := humanize.ParseBytes(*mem)
		if err != nil {
			return scale.OpenConfig{}, fmt.Errorf("-max-memory %q: %w", *mem, err)
		}
		debug.SetMemoryLimit(int64(n)) // as cairn's --max-memory does
		return scale.OpenConfig{Dir: *dir, Cache: *cache, MaxMemory: int64(n), Password: scale.Password}, nil
	}
}

func run(ctx context.Context, args []string) (any, error) {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	cfg := scale.RunConfig{Log: os.Stderr}
	fs.Int64Var(&cfg.Entries, "entries", 10_000_000, "index entries of data chunks")
	fs.IntVar(&cfg.Snapshots, "snapshots", 10, "snapshots sharing the chunks (one more references all)")
	fs.StringVar(&cfg.Work, "work", "", "work directory (emptied first)")
	fs.StringVar(&cfg.Cairn, "cairn", "bin/cairn", "the cairn binary")
	fs.StringVar(&cfg.MaxMemory, "max-memory", "256MiB", "--max-memory of every step")
	fs.Int64Var(&cfg.NewData, "new-data", 1<<30, "bytes of new data each backup adds")
	fs.IntVar(&cfg.Lookups, "lookups", 1_000_000, "lookups of absent and of present IDs")
	steps := fs.String("steps", "", "comma-separated steps to run (memory-backup,cache,lookup,backup,check,plan,prune); default all")
	fs.StringVar(&cfg.PlanTag, "plan-tag", "scale=all", "tag of the snapshot whose restore is planned")
	fs.StringVar(&cfg.ReportPath, "report", "", "write the report here after every step too")
	_ = fs.Parse(args)
	if *steps != "" {
		cfg.Steps = strings.Split(*steps, ",")
	}
	if cfg.Work == "" {
		return nil, fmt.Errorf("-work is required")
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg.Self = self
	return scale.Run(ctx, cfg)
}

func gen(ctx context.Context, args []string) (any, error) {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	cfg := scale.GenConfig{Password: scale.Password}
	fs.StringVar(&cfg.Dir, "repo", "", "new repository directory")
	fs.Int64Var(&cfg.Entries, "entries", 1_000_000, "index entries of data chunks")
	fs.IntVar(&cfg.Snapshots, "snapshots", 10, "snapshots sharing the chunks")
	_ = fs.Parse(args)
	return scale.Generate(ctx, cfg)
}

func lookup(ctx context.Context, args []string) (any, error) {
	fs := flag.NewFlagSet("lookup", flag.ExitOnError)
	open := openFlags(fs)
	entries := fs.Int64("entries", 0, "entries the repository was generated with")
	n := fs.Int("n", 1_000_000, "lookups of each kind")
	_ = fs.Parse(args)
	oc, err := open()
	if err != nil {
		return nil, err
	}
	return scale.Lookup(ctx, oc, *entries, *n)
}

func plan(ctx context.Context, args []string) (any, error) {
	fs := flag.NewFlagSet("plan", flag.ExitOnError)
	open := openFlags(fs)
	tag := fs.String("tag", "scale=all", "tag of the snapshot to plan")
	target := fs.String("target", "", "restore target")
	_ = fs.Parse(args)
	oc, err := open()
	if err != nil {
		return nil, err
	}
	return scale.Plan(ctx, oc, *tag, *target)
}
