package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// shmDir is where repositories go when it has room: the anchors in
// DESIGN.md were measured with repositories on tmpfs.
const shmDir = "/dev/shm"

type harness struct {
	cfg      Config
	repoDir  string
	s3       *s3Server
	datasets []benchDataset
	configs  []toolConfig
	res      *Results
	xfs      string // the agent leg's XFS mount, when a full run made one
}

// Run generates the datasets, runs every cycle, and writes results.json
// and RESULTS.md into cfg.Out. Failures (a tool error, an incorrect
// restore) do not stop the run; they are in the results, and the caller
// must treat a non-empty Results.Failures as a failed run.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	cfg.Defaults()
	h := &harness{cfg: cfg, datasets: cfg.datasets(), configs: cfg.toolConfigs()}
	if len(h.datasets) == 0 || len(h.configs) == 0 {
		return nil, fmt.Errorf("nothing to run: no dataset or configuration selected")
	}
	if err := cfg.Bins.check(h.needS3()); err != nil {
		return nil, err
	}
	h.res = &Results{Started: time.Now().UTC(), Smoke: cfg.Smoke, Machine: machineInfo(), Failures: []Failure{}}
	if !cfg.Smoke {
		h.res.Notes = ReadNotes(cfg.Root)
	}
	if err := h.prepare(ctx); err != nil {
		return nil, err
	}
	defer h.shutdown()
	for run := 1; run <= cfg.Runs; run++ {
		if err := h.runOnce(ctx, run); err != nil {
			return nil, err
		}
	}
	h.res.Finished = time.Now().UTC()
	h.res.Machine.LoadAfter = loadAvg()
	h.res.Machine.SplitMBAfter = calibrate()
	h.res.Medians = computeMedians(h.res.Samples)
	if err := WriteOutputs(h.res, cfg.Out); err != nil {
		return nil, err
	}
	return h.res, nil
}

func (h *harness) needS3() bool {
	return slices.ContainsFunc(h.configs, func(t toolConfig) bool { return t.s3 })
}

// prepare generates the datasets, picks the repository directory and
// starts the S3 server.
func (h *harness) prepare(ctx context.Context) error {
	var biggest int64
	for _, ds := range h.datasets {
		start := time.Now()
		if err := ds.data.Prepare(ctx); err != nil {
			return err
		}
		note := fmt.Sprintf("%s: %s, %s, ready in %.1fs", ds.info.Name, formatBytes(ds.info.Bytes),
			plural(ds.info.Files, "file"), time.Since(start).Seconds())
		fmt.Fprintln(h.cfg.Log, "dataset", note)
		h.res.Setup.GenerateNotes = append(h.res.Setup.GenerateNotes, note)
		h.res.Datasets = append(h.res.Datasets, ds.info)
		biggest = max(biggest, ds.info.Bytes)
	}
	for _, t := range h.configs {
		h.res.Configs = append(h.res.Configs, t.info)
	}
	if err := h.pickRepoDir(biggest); err != nil {
		return err
	}
	s := &h.res.Setup
	s.Runs, s.Seed, s.RepoDir, s.RepoFS = h.cfg.Runs, h.cfg.Seed, h.repoDir, filesystemOf(h.repoDir)
	s.ScratchDir, s.ScratchFS = h.cfg.Scratch, filesystemOf(h.cfg.Scratch)
	s.CairnCommit, s.ToolVersions = gitCommit(ctx, h.cfg.Root), toolVersions(ctx, h.cfg.Bins)
	if h.cfg.Agent && !h.cfg.Smoke {
		// Room for the volumes, their restores and the cluster: 3x each
		// dataset and 4 GiB of slack (the image file is sparse).
		if err := h.mountXFS(ctx, 3*biggest+3*h.treeBytes()+4<<30); err != nil {
			return err
		}
	}
	if h.needS3() {
		srv, err := startS3(h.cfg.Bins.Versitygw, filepath.Join(h.repoDir, "s3"))
		if err != nil {
			return err
		}
		h.s3 = srv
	}
	return nil
}

// pickRepoDir uses cfg.RepoDir, else tmpfs if it can hold a repository and
// a restore of the biggest dataset with room to spare, else the scratch
// directory. Each run gets its own subdirectory, removed at the end.
func (h *harness) pickRepoDir(biggest int64) error {
	base := h.cfg.RepoDir
	if base == "" {
		base = filepath.Join(h.cfg.Scratch, "repos")
		if need := 3*biggest + 1<<30; freeBytes(shmDir) > need {
			base = shmDir
		}
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(base, "cairn-bench-")
	if err != nil {
		return err
	}
	h.repoDir = dir
	return nil
}

func (h *harness) shutdown() {
	if h.s3 != nil {
		h.s3.stop()
	}
	h.unmountXFS()
	_ = os.RemoveAll(h.repoDir)
}

// runOnce runs every configuration on every dataset once. The order of
// the configurations rotates from run to run, so that drift of the shared
// machine (page cache, other load, thermal state) is spread over all.
func (h *harness) runOnce(ctx context.Context, run int) error {
	for _, ds := range h.datasets {
		if err := warm(ds.data.Dir()); err != nil {
			return fmt.Errorf("read dataset %s: %w", ds.info.Name, err)
		}
		n := len(h.configs)
		for i := range n {
			t := h.configs[(i+run-1)%n]
			if t.s3 && !ds.s3 {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			samples, fail := h.runCycle(ctx, t, ds, run)
			h.res.Samples = append(h.res.Samples, samples...)
			if fail != nil {
				h.res.Failures = append(h.res.Failures, *fail)
				fmt.Fprintf(h.cfg.Log, "FAIL run %d %s %s %s: %s\n", run, ds.info.Name, t.info.Name, fail.Phase, fail.Error)
			}
		}
	}
	if h.cfg.Agent {
		h.runAgentLeg(ctx, run)
	}
	return nil
}

// warm reads the dataset once, so that every tool finds it in the page
// cache, as the DESIGN.md anchors were measured.
func warm(dir string) error {
	files, err := listTree(dir)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for rel, e := range files {
		if !e.typ.IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			return err
		}
		_, err = io.CopyBuffer(io.Discard, onlyReader{f}, buf)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// onlyReader hides WriterTo, so that CopyBuffer really reads the file.
type onlyReader struct{ io.Reader }

// NotesFile is the hand-written tuning account, relative to the module root.
const NotesFile = "bench/TUNING.md"

// ReadNotes returns NotesFile under the module root, or nothing if it is
// missing.
func ReadNotes(root string) string {
	b, err := os.ReadFile(filepath.Join(root, NotesFile))
	if err != nil {
		return ""
	}
	return string(b)
}

// WriteOutputs writes results.json and RESULTS.md into dir.
func WriteOutputs(res *Results, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, "results.json"), append(b, '\n')); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "RESULTS.md"), []byte(Report(res)))
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
