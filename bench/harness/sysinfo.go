package harness

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// Machine is where the figures were taken.
type Machine struct {
	Host        string `json:"host"`
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpu_model"`
	MemoryBytes int64  `json:"memory_bytes"`
	Kernel      string `json:"kernel"`
	GoVersion   string `json:"go_version"`
	LoadBefore  string `json:"loadavg_before"`
	LoadAfter   string `json:"loadavg_after"`
	// SplitMBBefore and SplitMBAfter are calibrate's figure before the
	// first cycle and after the last (0: not measured).
	SplitMBBefore float64 `json:"split_mbps_before,omitempty"`
	SplitMBAfter  float64 `json:"split_mbps_after,omitempty"`
}

// Setup is how the run was configured.
type Setup struct {
	// AgentFS is the file system the agent leg's volumes lived on.
	AgentFS       string            `json:"agent_fs,omitempty"`
	Runs          int               `json:"runs"`
	Seed          uint64            `json:"seed"`
	ScratchDir    string            `json:"scratch_dir"`
	ScratchFS     string            `json:"scratch_fs"`
	RepoDir       string            `json:"repo_dir"`
	RepoFS        string            `json:"repo_fs"`
	CairnCommit   string            `json:"cairn_commit"`
	ToolVersions  map[string]string `json:"tool_versions"`
	GenerateNotes []string          `json:"generate_notes"`
}

func machineInfo() Machine {
	host, _ := os.Hostname()
	return Machine{Host: host, CPUs: runtime.NumCPU(), CPUModel: cpuModel(), MemoryBytes: memTotal(),
		Kernel: readTrim("/proc/sys/kernel/osrelease"), GoVersion: runtime.Version(), LoadBefore: loadAvg(),
		SplitMBBefore: calibrate()}
}

func cpuModel() string {
	return procField("/proc/cpuinfo", "model name")
}

func memTotal() int64 {
	var kb int64
	fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%d", &kb)
	return kb * 1024
}

// procField returns the value of the first "key: value" line for key.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func loadAvg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// filesystemOf names the filesystem type and mount point holding path,
// from the longest matching mount in /proc/mounts.
func filesystemOf(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "unknown"
	}
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown"
	}
	best, fstype := "", "unknown"
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mp := f[1]
		if (abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best, fstype = mp, f[2]
		}
	}
	return fmt.Sprintf("%s (mounted at %s)", fstype, best)
}

// freeBytes is the space available to an unprivileged user at path.
func freeBytes(path string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0
	}
	return int64(st.Bavail) * st.Bsize
}

// toolVersions asks each binary for its version, as the report shows it.
func toolVersions(ctx context.Context, b Binaries) map[string]string {
	ask := func(bin string, args ...string) string {
		out, err := exec.CommandContext(ctx, bin, args...).Output()
		if err != nil {
			return "unknown"
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return line
	}
	kopia, _, _ := strings.Cut(ask(b.Kopia, "--version"), " ")
	return map[string]string{
		"restic": ask(b.Restic, "version"),
		"kopia":  kopia,
		"go":     runtime.Version(),
	}
}

// gitCommit names the checked-out commit, marked dirty if the tree has
// uncommitted changes, so that figures can be tied to the code they measure.
func gitCommit(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "describe", "--always", "--dirty", "--abbrev=12").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
