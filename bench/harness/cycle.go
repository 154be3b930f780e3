package harness

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// cycle is one tool on one dataset in one run: init, initial backup,
// incremental backup of the variant, restore, verify. Its work directory
// holds the repository, the tool's cache and config, and the restore
// target, and is removed when the cycle ends.
type cycle struct {
	work     string
	src      string
	bucket   string // S3 leg: the bucket of this cycle
	snapshot string // ID of the last backup, for tools that restore by ID
}

func (c *cycle) home() string { return filepath.Join(c.work, "home") }

// cycleRun carries what one cycle needs and collects what it measured.
type cycleRun struct {
	h       *harness
	cfg     toolConfig
	ds      benchDataset
	run     int
	tool    tool
	c       *cycle
	samples []Sample
}

// runCycle runs one cycle. The dataset is left in its base state whatever
// happens; the error, if any, names the phase that failed.
func (h *harness) runCycle(ctx context.Context, cfg toolConfig, ds benchDataset, run int) ([]Sample, *Failure) {
	name := fmt.Sprintf("%d-%s-%s", run, ds.info.Name, cfg.info.Name)
	cr := &cycleRun{h: h, cfg: cfg, ds: ds, run: run, tool: cfg.make(h.cfg.Bins, h.s3),
		c: &cycle{work: filepath.Join(h.repoDir, name), src: ds.data.Dir(), bucket: "bench-" + name}}
	defer cr.cleanup()
	phase, err := cr.steps(ctx)
	if err != nil {
		return cr.samples, &Failure{Config: cfg.info.Name, Dataset: ds.info.Name, Run: run, Phase: phase, Error: err.Error()}
	}
	return cr.samples, nil
}

func (cr *cycleRun) steps(ctx context.Context) (phase string, err error) {
	if err := os.MkdirAll(cr.c.home(), 0o755); err != nil {
		return "init", err
	}
	if err := cr.tool.Init(ctx, cr.c); err != nil {
		return "init", err
	}
	if err := cr.backup(ctx, PhaseBackup, cr.ds.info.Bytes); err != nil {
		return PhaseBackup, err
	}
	if err := cr.ds.data.Mutate(); err != nil {
		return "mutate", err
	}
	defer func() {
		if rerr := cr.ds.data.Revert(); rerr != nil && err == nil {
			phase, err = "revert", rerr
		}
	}()
	if err := cr.backup(ctx, PhaseIncremental, cr.ds.info.MutatedBytes); err != nil {
		return PhaseIncremental, err
	}
	target := filepath.Join(cr.c.work, "restore")
	if err := cr.restore(ctx, target); err != nil {
		return PhaseRestore, err
	}
	if err := compareTrees(cr.c.src, cr.tool.RestoredRoot(target, cr.c.src)); err != nil {
		return "verify", fmt.Errorf("RESTORE IS NOT IDENTICAL TO THE SOURCE: %w", err)
	}
	return "", nil
}

func (cr *cycleRun) backup(ctx context.Context, phase string, bytes int64) error {
	cpu := cr.serverCPU()
	m, stages, err := cr.tool.Backup(ctx, cr.c)
	if err != nil {
		return err
	}
	s := cr.sample(phase, bytes, m, cr.serverCPU()-cpu)
	s.Stages = stages
	if s.RepoBytes, err = diskUsage(cr.tool.RepoDir(cr.c)); err != nil {
		return fmt.Errorf("repository size: %w", err)
	}
	cr.record(s)
	return nil
}

func (cr *cycleRun) restore(ctx context.Context, target string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	cpu := cr.serverCPU()
	m, err := cr.tool.Restore(ctx, cr.c, target)
	if err != nil {
		return err
	}
	cr.record(cr.sample(PhaseRestore, cr.ds.info.MutatedBytes, m, cr.serverCPU()-cpu))
	return nil
}

// serverCPU is the S3 server's CPU time so far, for configurations that
// use it; the server's work is part of the cost of the S3 path.
func (cr *cycleRun) serverCPU() float64 {
	if !cr.cfg.s3 || cr.h.s3 == nil {
		return 0
	}
	return cr.h.s3.cpuSeconds()
}

// sample turns a measurement into a Sample; serverCPU is the S3 server's
// share of the machine's CPU time, which is the tool's cost, not others'.
func (cr *cycleRun) sample(phase string, bytes int64, m measurement, serverCPU float64) Sample {
	own := (m.User + m.Sys).Seconds() + serverCPU
	return Sample{Config: cr.cfg.info.Name, Dataset: cr.ds.info.Name, Run: cr.run, Phase: phase, Bytes: bytes,
		WallSeconds: m.Wall.Seconds(), UserSeconds: m.User.Seconds(), SysSeconds: m.Sys.Seconds(),
		MaxRSSBytes: m.MaxRSS, ServerCPUSeconds: serverCPU, OtherCPUSeconds: max(0, m.MachineBusy.Seconds()-own)}
}

func (cr *cycleRun) record(s Sample) {
	cr.samples = append(cr.samples, s)
	mbps := float64(s.Bytes) / 1e6 / max(s.WallSeconds, 1e-9)
	fmt.Fprintf(cr.h.cfg.Log, "  run %d  %-8s %-13s %-11s %7.2fs %8.1f MB/s  cpu %6.2fs  rss %5d MiB  others %5.2fs",
		s.Run, s.Dataset, s.Config, s.Phase, s.WallSeconds, mbps, s.UserSeconds+s.SysSeconds, s.MaxRSSBytes>>20,
		s.OtherCPUSeconds)
	if s.RepoBytes > 0 {
		fmt.Fprintf(cr.h.cfg.Log, "  repo %6d MiB", s.RepoBytes>>20)
	}
	fmt.Fprintln(cr.h.cfg.Log)
}

func (cr *cycleRun) cleanup() {
	paths := []string{cr.c.work}
	if cr.cfg.s3 && cr.h.s3 != nil {
		paths = append(paths, cr.h.s3.bucketDir(cr.c.bucket))
	}
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			fmt.Fprintf(cr.h.cfg.Log, "warning: remove %s: %v\n", p, err)
		}
	}
}

// diskUsage is what du reports: allocated blocks, not apparent sizes.
func diskUsage(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		}
		return nil
	})
	return n, err
}
