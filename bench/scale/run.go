package scale

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Password is the generated repositories' password.
var Password = []byte("cairn scale benchmark")

// RunConfig drives one measured run at one size.
type RunConfig struct {
	Work      string // work directory, emptied first
	Entries   int64
	Snapshots int
	Cairn     string // the cairn binary
	Self      string // this command, for the steps it runs itself
	MaxMemory string // the --max-memory every step gets, e.g. "256MiB"
	NewData   int64  // bytes of new data the backup adds
	Lookups   int
	// Steps, if set, runs only these (memory-backup, cache, lookup,
	// backup, check, plan, prune), for sizes where all would take too long.
	Steps []string
	// PlanTag is the tag of the snapshot whose restore is planned.
	PlanTag string
	// ReportPath, if set, receives the report after every step, so a run
	// stopped early keeps what it measured.
	ReportPath string
	Log        io.Writer
}

// Step is one measured process.
type Step struct {
	Name       string         `json:"name"`
	Seconds    float64        `json:"seconds"`
	PeakRSSMiB float64        `json:"peak_rss_mib"`
	Output     map[string]any `json:"output,omitempty"`
}

// Report is a run's figures.
type Report struct {
	Entries    int64   `json:"entries"`
	Packs      int64   `json:"packs"`
	IndexFiles int64   `json:"index_files"`
	GenSeconds float64 `json:"generate_seconds"`
	MaxMemory  string  `json:"max_memory"`
	Steps      []Step  `json:"steps"`
}

type runner struct {
	cfg  RunConfig
	repo string
	rep  *Report
}

// Run generates the repository and measures every step.
func Run(ctx context.Context, cfg RunConfig) (*Report, error) {
	if err := os.RemoveAll(cfg.Work); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Work, 0o700); err != nil {
		return nil, err
	}
	ru := &runner{cfg: cfg, repo: filepath.Join(cfg.Work, "repo"), rep: &Report{Entries: cfg.Entries, MaxMemory: cfg.MaxMemory}}
	ru.logf("generating %d entries in %s", cfg.Entries, ru.repo)
	g, err := Generate(ctx, GenConfig{Dir: ru.repo, Entries: cfg.Entries, Snapshots: cfg.Snapshots, Password: Password})
	if err != nil {
		return nil, err
	}
	ru.rep.Packs, ru.rep.IndexFiles, ru.rep.GenSeconds = g.Packs, g.IndexFiles, g.Seconds
	ru.logf("generated %d packs, %d index files in %.0fs", g.Packs, g.IndexFiles, g.Seconds)
	return ru.rep, ru.steps(ctx)
}

func (ru *runner) steps(ctx context.Context) error {
	cache := filepath.Join(ru.cfg.Work, "cache")
	mem := []string{"--max-memory", ru.cfg.MaxMemory, "--cache-dir", cache}
	newData := filepath.Join(ru.cfg.Work, "new", "data.bin")
	if err := writeRandom(newData, ru.cfg.NewData); err != nil {
		return err
	}
	lookup := []string{"lookup", "-repo", ru.repo, "-cache", cache, "-max-memory", ru.cfg.MaxMemory,
		"-entries", strconv.FormatInt(ru.cfg.Entries, 10), "-n", strconv.Itoa(ru.cfg.Lookups)}
	steps := []struct {
		key, name string
		bin       string
		args      []string
	}{
		{"memory-backup", "backup of new data, index in memory (no --max-memory)", ru.cfg.Cairn, []string{"repo", "backup", "--json", newData}},
		{"cache", "index cache build (cold) and lookups", ru.cfg.Self, lookup},
		{"lookup", "lookups (warm cache)", ru.cfg.Self, lookup},
		{"backup", "backup of new data (warm cache)", ru.cfg.Cairn, append([]string{"repo", "backup", "--json", newData + ".2"}, mem...)},
		{"plan", "restore plan of the snapshot tagged " + ru.cfg.PlanTag, ru.cfg.Self, []string{"plan", "-repo", ru.repo, "-cache", cache,
			"-max-memory", ru.cfg.MaxMemory, "-tag", ru.cfg.PlanTag, "-target", filepath.Join(ru.cfg.Work, "restore")}},
		{"check", "check (structure)", ru.cfg.Cairn, append([]string{"repo", "check", "--json"}, mem...)},
	}
	if err := copyRandom(newData, newData+".2", ru.cfg.NewData); err != nil {
		return err
	}
	for _, s := range steps {
		if !ru.wants(s.key) {
			continue
		}
		if err := ru.step(ctx, s.name, s.bin, s.args...); err != nil {
			return err
		}
	}
	if !ru.wants("prune") {
		return nil
	}
	return ru.pruneSteps(ctx, mem)
}

func (ru *runner) wants(step string) bool {
	return len(ru.cfg.Steps) == 0 || slices.Contains(ru.cfg.Steps, step)
}

func (ru *runner) pruneSteps(ctx context.Context, mem []string) error {
	ids, err := ForgetHalf(ctx, OpenConfig{Dir: ru.repo, Password: Password}, ru.cfg.Snapshots)
	if err != nil {
		return err
	}
	if err := ru.step(ctx, "forget half the snapshots", ru.cfg.Cairn, append([]string{"repo", "forget", "--json"}, ids...)...); err != nil {
		return err
	}
	if err := ru.step(ctx, "prune", ru.cfg.Cairn, append([]string{"repo", "prune", "--json", "--grace", "1s"}, mem...)...); err != nil {
		return err
	}
	return ru.step(ctx, "check after prune", ru.cfg.Cairn, append([]string{"repo", "check", "--json"}, mem...)...)
}

// step runs one process and records its wall time, peak RSS and JSON
// output. A failing process fails the run, with its stderr.
func (ru *runner) step(ctx context.Context, name, bin string, args ...string) error {
	ru.logf("%s: %s %v", name, filepath.Base(bin), args)
	// GNU time execs the step from a small process: a child forked from
	// this one would start its peak RSS at this process's, which Linux
	// keeps across exec.
	rss, err := os.CreateTemp(ru.cfg.Work, "rss-")
	if err != nil {
		return err
	}
	rss.Close()
	defer os.Remove(rss.Name())
	cmd := exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-f", "%M", "-o", rss.Name(), bin}, args...)...)
	cmd.Env = append(os.Environ(), "CAIRN_PASSWORD="+string(Password), "CAIRN_REPOSITORY="+ru.repo)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err = cmd.Run()
	s := Step{Name: name, Seconds: time.Since(t0).Seconds()}
	if b, rerr := os.ReadFile(rss.Name()); rerr == nil {
		if kib, perr := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); perr == nil {
			s.PeakRSSMiB = kib / 1024
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, stderr.String())
	}
	var out map[string]any
	if json.Unmarshal(stdout.Bytes(), &out) == nil {
		s.Output = out
	}
	ru.rep.Steps = append(ru.rep.Steps, s)
	ru.logf("  %.1fs, peak RSS %.0f MiB", s.Seconds, s.PeakRSSMiB)
	return ru.saveReport()
}

func (ru *runner) saveReport() error {
	if ru.cfg.ReportPath == "" {
		return nil
	}
	b, err := json.MarshalIndent(ru.rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(ru.cfg.ReportPath, append(b, '\n'), 0o644)
}

func (ru *runner) logf(format string, args ...any) {
	if ru.cfg.Log != nil {
		fmt.Fprintf(ru.cfg.Log, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
}

// writeRandom writes n incompressible bytes.
func writeRandom(path string, n int64) error {
	return copyRandom("", path, n)
}

// copyRandom writes n random bytes seeded by the name of seedFrom (so two
// files of new data differ).
func copyRandom(seedFrom, path string, n int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	seed := sha256.Sum256([]byte(path + "\x00" + seedFrom))
	rng := rand.NewChaCha8(seed)
	if _, err := io.CopyN(f, rng, n); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
