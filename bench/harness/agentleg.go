package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairnbackup/cairn/bench/dataset"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

// The agent leg moves the image and small-files datasets as volumes
// through the node agent (controller, agent and reference driver as local
// processes, see e2e/localcluster), beside `cairn repo` on the same data in
// the same run: a full backup of both volumes at once, a changed-block
// incremental after 1% of the image's blocks are rewritten, and a restore.

// Agent phases.
const (
	AgentBackup      = "backup"
	AgentIncremental = "changed-blocks"
	// AgentIncrementalRuns rewrites the same share in runs of 16 blocks.
	AgentIncrementalRuns = "changed-runs"
	AgentBoth            = "two-at-once"
	AgentRestore         = "restore"
	RepoBackup           = "repo-backup"
	RepoRestore          = "repo-restore"
	agentNS              = "bench"
	agentBlockSize       = 64 << 10 // the reference driver's block-map granularity
	agentChangedShare    = 0.01
)

// AgentSample is one measured step of the agent leg.
type AgentSample struct {
	Run    int    `json:"run"`
	Volume string `json:"volume"` // the dataset moved: "image" (block) or "files"
	Phase  string `json:"phase"`
	Bytes  int64  `json:"bytes"`      // the volume's logical bytes
	Read   int64  `json:"bytes_read"` // read from the volume (agent's own counter)
	// Seconds is the data movement: for the agent the item's read-and-store
	// (or fetch-and-write) time, for cairn repo the command's wall time.
	Seconds float64 `json:"seconds"`
	// ItemSeconds is the agent item's whole time, the driver's work
	// (snapshot, volume, mounts) included.
	ItemSeconds float64 `json:"item_seconds,omitempty"`
	MaxRSSBytes int64   `json:"max_rss_bytes,omitempty"`
	ReadMode    string  `json:"read_mode,omitempty"`
}

// agentLeg is one run of the leg.
type agentLeg struct {
	h       *harness
	run     int
	work    string
	img     *dataset.Image
	tree    *dataset.Tree
	c       *localcluster.Cluster
	dev     string // where the pod sees the image volume
	files   string // and the file volume
	samples []AgentSample
}

// runAgentLeg runs the leg once and records its samples, or a failure.
func (h *harness) runAgentLeg(ctx context.Context, run int) {
	img, tree := h.agentDatasets()
	if img == nil || tree == nil {
		return
	}
	l := &agentLeg{h: h, run: run, img: img, tree: tree, work: filepath.Join(h.agentRoot(), fmt.Sprintf("agent-%d", run))}
	fmt.Fprintf(h.cfg.Log, "run %d: agent leg\n", run)
	phase, err := l.steps(ctx)
	if cerr := l.cleanup(); err == nil && cerr != nil {
		phase, err = "cleanup", cerr
	}
	h.res.Agent = append(h.res.Agent, l.samples...)
	if err != nil {
		h.res.Failures = append(h.res.Failures, Failure{Config: "agent", Dataset: "image+files", Run: run, Phase: phase, Error: err.Error()})
	}
}

func (h *harness) agentDatasets() (*dataset.Image, *dataset.Tree) {
	var img *dataset.Image
	var tree *dataset.Tree
	for _, ds := range h.datasets {
		switch d := ds.data.(type) {
		case *dataset.Image:
			if ds.info.Name == "image" {
				img = d
			}
		case *dataset.Tree:
			tree = d
		}
	}
	return img, tree
}

func (l *agentLeg) steps(ctx context.Context) (string, error) {
	if err := l.start(ctx); err != nil {
		return "start", err
	}
	if l.run%2 == 1 {
		if err := l.repoBaseline(ctx); err != nil {
			return RepoBackup, err
		}
	}
	// One item at a time for the speeds, then both at once for memory.
	for _, vol := range []string{"image", "files"} {
		if err := l.backup(ctx, vol+"-full", AgentBackup, vol); err != nil {
			return AgentBackup, err
		}
	}
	if l.run%2 == 0 {
		if err := l.repoBaseline(ctx); err != nil {
			return RepoBackup, err
		}
	}
	if err := l.backup(ctx, "both", AgentBoth, ""); err != nil {
		return AgentBoth, err
	}
	// 1% of the blocks, twice: scattered (each block alone, the worst case
	// for any chunked store) and clustered in 1 MiB runs (as a database's
	// appends and neighbouring pages are).
	for _, inc := range []struct {
		name, phase string
		run         int64
	}{{"scattered", AgentIncremental, 1}, {"clustered", AgentIncrementalRuns, 16}} {
		if err := l.rewriteBlocks(inc.run); err != nil {
			return "rewrite", err
		}
		if err := l.backup(ctx, inc.name, inc.phase, "image"); err != nil {
			return inc.phase, err
		}
	}
	for _, vol := range []string{"image", "files"} {
		if err := l.restore(ctx, vol); err != nil {
			return AgentRestore, err
		}
	}
	return "", nil
}

// start runs the cluster and fills its two volumes with the datasets.
func (l *agentLeg) start(ctx context.Context) error {
	c, err := localcluster.Start(ctx, localcluster.Config{Dir: filepath.Join(l.work, "cluster"), BinDir: filepath.Dir(l.h.cfg.Bins.Cairn),
		Nodes: []string{"node-a"}, Log: io.Discard})
	l.c = c
	if err != nil {
		return err
	}
	if err := c.AddLocation(ctx, "default", localcluster.LocationSpec{URL: filepath.Join(l.repoDir(), "agent-repo"), Password: password}); err != nil {
		return err
	}
	if err := c.Client.Create(ctx, namespaceObject(agentNS)); err != nil {
		return err
	}
	for _, s := range []localcluster.VolumeSpec{
		{Namespace: agentNS, PVC: "image", Node: "node-a", Size: l.img.Bytes(), Block: true, Labels: map[string]string{"volume": "image"}},
		{Namespace: agentNS, PVC: "files", Node: "node-a", Size: 8 << 30, Labels: map[string]string{"volume": "files"}}} {
		if _, err := c.Provision(ctx, s); err != nil {
			return err
		}
	}
	paths, err := c.RunPod(ctx, localcluster.PodSpec{Namespace: agentNS, Name: "app", Node: "node-a", Claims: []string{"image", "files"}})
	if err != nil {
		return err
	}
	l.dev, l.files = paths["image"], paths["files"]
	if err := copyInto(l.img.Path(), l.dev); err != nil {
		return fmt.Errorf("fill the block volume: %w", err)
	}
	if out, err := exec.CommandContext(ctx, "cp", "-a", l.tree.Dir()+"/.", paths["files"]).CombinedOutput(); err != nil {
		return fmt.Errorf("fill the file volume: %w: %s", err, out)
	}
	return nil
}

func (l *agentLeg) repoDir() string {
	return filepath.Join(l.h.repoDir, fmt.Sprintf("agent-%d", l.run))
}

func (l *agentLeg) cleanup() error {
	var err error
	if l.c != nil {
		err = l.c.Stop()
	}
	if err == nil {
		err = errors.Join(os.RemoveAll(l.work), os.RemoveAll(l.repoDir()))
	}
	return err
}

// copyInto copies a file onto a device and flushes it.
func copyInto(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(out, in, make([]byte, 4<<20)); err != nil {
		out.Close()
		return err
	}
	return errors.Join(out.Sync(), out.Close())
}

// rewriteBlocks rewrites 1% of the image volume's driver blocks, seeded,
// in runs of run blocks at random places.
func (l *agentLeg) rewriteBlocks(run int64) error {
	f, err := os.OpenFile(l.dev, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	blocks := l.img.Bytes() / agentBlockSize
	rng := rand.New(rand.NewPCG(l.h.cfg.Seed, uint64(l.run)*100+uint64(run)))
	buf := make([]byte, run*agentBlockSize)
	for range max(int(float64(blocks)*agentChangedShare)/int(run), 1) {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(buf, rng.Int64N(blocks-run+1)*agentBlockSize); err != nil {
			f.Close()
			return err
		}
	}
	return errors.Join(f.Sync(), f.Close())
}

// agentRSS is the agent process's peak RSS so far.
func (l *agentLeg) agentRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", l.c.Nodes["node-a"].AgentPID()))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func seconds(ms int64) float64 { return float64(ms) / 1000 }

// snapshotID reads the snapshot ID of a `cairn repo backup --json` result.
func snapshotID(stdout []byte) (string, error) {
	var out struct {
		SnapshotID string `json:"snapshot_id"`
	}
	if err := json.Unmarshal(stdout, &out); err != nil || out.SnapshotID == "" {
		return "", fmt.Errorf("cairn backup --json gave no snapshot ID: %v", err)
	}
	return out.SnapshotID, nil
}

// agentRoot is where the leg's cluster keeps its nodes (volumes,
// snapshots): the reflink-capable XFS mount of a full run, else the
// repository directory.
func (h *harness) agentRoot() string {
	if h.xfs != "" {
		return h.xfs
	}
	return h.repoDir
}

// mountXFS makes the full run's file system for the driver's volumes: XFS
// with reflink, in a sparse image under the scratch directory, so that a
// snapshot costs what it costs on a storage system (a metadata operation),
// not a copy of the volume.
func (h *harness) mountXFS(ctx context.Context, size int64) error {
	if _, err := exec.LookPath("mkfs.xfs"); err != nil {
		return fmt.Errorf("the agent leg needs mkfs.xfs (Debian's xfsprogs; scripts/install-bench-tools.sh installs it): %w", err)
	}
	img, dir := filepath.Join(h.cfg.Scratch, "agent-xfs.img"), filepath.Join(h.cfg.Scratch, "agent-xfs")
	_ = exec.Command("umount", dir).Run() // a run killed before its shutdown
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Truncate(img, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.Create(img)
	if err == nil {
		err = errors.Join(f.Truncate(size), f.Close())
	}
	if err != nil {
		return err
	}
	for _, args := range [][]string{{"mkfs.xfs", "-q", "-f", "-m", "reflink=1", img}, {"mount", "-o", "loop", img, dir}} {
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	h.xfs = dir
	h.res.Setup.AgentFS = "xfs (reflink) on a loop device, image in " + h.cfg.Scratch
	return nil
}

// unmountXFS undoes mountXFS.
func (h *harness) unmountXFS() {
	if h.xfs == "" {
		return
	}
	if out, err := exec.Command("umount", h.xfs).CombinedOutput(); err != nil {
		fmt.Fprintf(h.cfg.Log, "unmount %s: %v: %s\n", h.xfs, err, out)
		return
	}
	_ = os.Remove(filepath.Join(h.cfg.Scratch, "agent-xfs.img"))
	h.xfs = ""
}
