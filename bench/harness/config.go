package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cairnbackup/cairn/bench/dataset"
)

// Config says what to run and where. Zero values are filled by Defaults.
type Config struct {
	Root    string // module root: bin/cairn and .tools/bin are found under it
	Scratch string // datasets are generated here and reused across runs
	// RepoDir holds repositories, caches and restore targets, one cycle at
	// a time. Empty means /dev/shm when it has room, else Scratch/repos.
	RepoDir string
	Out     string // results.json and RESULTS.md are written here
	Runs    int
	Smoke   bool
	Seed    uint64
	// ImageSize is the size of the image datasets; Files the number of
	// files in the tree.
	ImageSize int64
	Files     int
	// Configs and Datasets select a subset by name; empty selects all.
	Configs, Datasets []string
	// SourceTree is the real source tree copied as dataset 4; empty means
	// the Go distribution that runs the harness (`go env GOROOT`).
	SourceTree string
	// Agent runs the node-agent leg (it needs the image and files
	// datasets).
	Agent bool
	Bins  Binaries
	Log   io.Writer
}

// Binaries are the programs the harness runs.
type Binaries struct {
	// Cairn is the full CLI, whose directory also holds the agent's
	// binaries; CairnRepo is cairn-repo, which the cairn configurations run.
	Cairn, CairnRepo, Restic, Kopia, Versitygw string
	// Launcher is the benchmark binary itself, which main turns into a
	// launcher when its first argument is LauncherArg.
	Launcher string
}

// Full-size and smoke-size defaults. The full sizes are issue 3's; the
// smoke sizes keep `make bench-smoke` to about a minute.
const (
	FullImageSize  = 2 << 30
	FullFiles      = 60000
	FullRuns       = 3
	SmokeImageSize = 64 << 20
	SmokeFiles     = 2000
	defaultSeed    = 20261126
)

// Defaults fills unset fields, for a full run or a smoke run.
func (c *Config) Defaults() {
	if c.ImageSize == 0 {
		c.ImageSize = pick(c.Smoke, SmokeImageSize, FullImageSize)
	}
	if c.Files == 0 {
		c.Files = int(pick(c.Smoke, SmokeFiles, FullFiles))
	}
	if c.Runs == 0 {
		c.Runs = int(pick(c.Smoke, 1, FullRuns))
	}
	if c.Seed == 0 {
		c.Seed = defaultSeed
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	b := &c.Bins
	tools := filepath.Join(c.Root, ".tools", "bin")
	b.Cairn = orDefault(b.Cairn, filepath.Join(c.Root, "bin", "cairn"))
	b.CairnRepo = orDefault(b.CairnRepo, filepath.Join(filepath.Dir(b.Cairn), "cairn-repo"))
	b.Restic = orDefault(b.Restic, filepath.Join(tools, "restic"))
	b.Kopia = orDefault(b.Kopia, filepath.Join(tools, "kopia"))
	b.Versitygw = orDefault(b.Versitygw, filepath.Join(tools, "versitygw"))
	if b.Launcher == "" {
		b.Launcher, _ = os.Executable()
	}
}

func pick(smoke bool, small, full int64) int64 {
	if smoke {
		return small
	}
	return full
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// check fails early, naming the make target that installs what is missing.
func (b Binaries) check(needS3 bool) error {
	bins := map[string]string{"cairn (make build)": b.Cairn, "cairn-repo (make build)": b.CairnRepo, "restic (scripts/install-bench-tools.sh)": b.Restic,
		"kopia (scripts/install-bench-tools.sh)": b.Kopia}
	if needS3 {
		bins["versitygw (make tools)"] = b.Versitygw
	}
	for what, p := range bins {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s not found at %s: %w", what, p, err)
		}
	}
	return nil
}

// benchDataset is a dataset as the harness needs it.
type benchDataset struct {
	info DatasetInfo
	s3   bool // the S3 leg runs on it
	data interface {
		Dir() string
		Prepare(context.Context) error
		Mutate() error
		Revert() error
	}
}

// treeBytes is the size of the small-files dataset.
func (h *harness) treeBytes() int64 {
	for _, d := range h.datasets {
		if d.info.Name == "files" {
			return d.info.Bytes
		}
	}
	return 0
}

func (c *Config) datasets() []benchDataset {
	data := filepath.Join(c.Scratch, "data")
	newImage := func(name string, zero, text float64) *dataset.Image {
		return &dataset.Image{Root: data, Name: name, Seed: c.Seed, Size: c.ImageSize,
			ZeroFrac: zero, TextFrac: text, ChangeFrac: 0.01}
	}
	img, vm := newImage("image", 0, 0), newImage("vmimage", 0.3, 0.2)
	tree := &dataset.Tree{Root: data, Name: "files", Seed: c.Seed, Files: c.Files,
		MinSize: 1 << 10, MaxSize: 64 << 10, ChangeFrac: 0.01}
	src := &dataset.Copy{Root: data, Name: "source", Source: c.sourceTree(), Skip: []string{"pkg", "bin"},
		Seed: c.Seed, ChangeFrac: 0.01}
	mod, add, del := tree.Changes()
	smod, sadd, sdel := src.Changes()
	imgVariant := fmt.Sprintf("%d of %d 1 MiB blocks rewritten in place", img.ChangedBlocks(), img.Bytes()/dataset.BlockSize)
	all := []benchDataset{
		{s3: true, data: img, info: DatasetInfo{Name: "image", Title: "1. incompressible image",
			Description: "one file of random bytes", Bytes: img.Bytes(), MutatedBytes: img.Bytes(), Files: 1,
			Variant: imgVariant}},
		{data: vm, info: DatasetInfo{Name: "vmimage", Title: "2. VM-like image",
			Description: "one file: 30% of its 1 MiB extents all zero, 20% text-like, 50% random",
			Bytes:       vm.Bytes(), MutatedBytes: vm.Bytes(), Files: 1, Variant: imgVariant + "; each new block zero, text or random in the same shares"}},
		{s3: true, data: tree, info: DatasetInfo{Name: "files", Title: "3. small files",
			Description: fmt.Sprintf("text-like files of 1–64 KiB (log-uniform) in %d directories, a random recursive tree", tree.Dirs()),
			Bytes:       tree.Bytes(), MutatedBytes: tree.MutatedBytes(), Files: c.Files,
			Variant: fmt.Sprintf("%d files rewritten in place, %d added, %d deleted", mod, add, del)}},
		{data: src, info: DatasetInfo{Name: "source", Title: "4. real source tree",
			Description: fmt.Sprintf("a copy of %s (Go source, tests, test data and docs) in %d directories", src.Source, src.Dirs()),
			Bytes:       src.Bytes(), MutatedBytes: src.MutatedBytes(), Files: src.Files(),
			Variant: fmt.Sprintf("%d files edited in place (a line inserted), %d added, %d deleted", smod, sadd, sdel)}},
	}
	return filterBy(all, c.Datasets, func(d benchDataset) string { return d.info.Name })
}

// sourceTree is the tree dataset 4 copies: SourceTree, else the Go
// distribution (its src/go directory alone in a smoke run).
func (c *Config) sourceTree() string {
	root := c.SourceTree
	if root == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return "" // Prepare then reports the missing tree
		}
		root = strings.TrimSpace(string(out))
	}
	if c.Smoke && c.SourceTree == "" {
		return filepath.Join(root, "src", "go")
	}
	return root
}

// toolConfig is one column of the report.
type toolConfig struct {
	info ConfigInfo
	s3   bool // runs only on the datasets of the S3 leg
	peer bool // a peer's default configuration: the targets compare against it
	make func(b Binaries, s3 *s3Server) tool
}

func (c *Config) toolConfigs() []toolConfig {
	all := []toolConfig{
		{info: ConfigInfo{"cairn", "cairn", "cairn-repo init (compression fastest)"},
			make: func(b Binaries, _ *s3Server) tool { return &cairnTool{runner: runner{b.Launcher}, bin: b.CairnRepo} }},
		{info: ConfigInfo{"cairn-nocomp", "cairn, no compression", "cairn-repo init --compression off"},
			make: func(b Binaries, _ *s3Server) tool {
				return &cairnTool{runner: runner{b.Launcher}, bin: b.CairnRepo, compression: "off"}
			}},
		{info: ConfigInfo{"restic", "restic", "restic init (compression auto)"}, peer: true,
			make: func(b Binaries, _ *s3Server) tool { return &resticTool{runner: runner{b.Launcher}, bin: b.Restic} }},
		{info: ConfigInfo{"kopia", "kopia", "kopia repository create filesystem (no compression)"}, peer: true,
			make: func(b Binaries, _ *s3Server) tool { return &kopiaTool{runner: runner{b.Launcher}, bin: b.Kopia} }},
		{info: ConfigInfo{"kopia-zstd", "kopia, zstd", "kopia policy set --global --compression=zstd"},
			make: func(b Binaries, _ *s3Server) tool {
				return &kopiaTool{runner: runner{b.Launcher}, bin: b.Kopia, zstd: true}
			}},
		{info: ConfigInfo{"cairn-s3", "cairn on S3", "cairn-repo init --repo s3://… (versitygw on loopback)"}, s3: true,
			make: func(b Binaries, s *s3Server) tool {
				return &cairnTool{runner: runner{b.Launcher}, bin: b.CairnRepo, s3: s}
			}},
	}
	return filterBy(all, c.Configs, func(t toolConfig) string { return t.info.Name })
}

func filterBy[T any](all []T, names []string, name func(T) string) []T {
	if len(names) == 0 {
		return all
	}
	var out []T
	for _, x := range all {
		if slices.Contains(names, name(x)) {
			out = append(out, x)
		}
	}
	return out
}
