package check

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/cairnbackup/cairn/csi"
)

// Config says which driver to probe and how.
type Config struct {
	// Endpoint serves the node service (and the controller service unless
	// ControllerEndpoint is set).
	Endpoint           string
	ControllerEndpoint string
	// WorkDir holds the probe's staging and publish paths; the driver must
	// be able to mount there. Default a new directory under os.TempDir.
	WorkDir string
	// SizeBytes of each scratch volume; default 64 MiB.
	SizeBytes int64
	// Secrets go into every controller call that takes secrets.
	Secrets map[string]string
	// Timeout bounds each CSI call; default 30s.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Result of one check.
type Result string

const (
	Pass        Result = "pass"
	Fail        Result = "fail"
	Unsupported Result = "unsupported"
)

// Check is the outcome of one data path.
type Check struct {
	Name   string `json:"name"`
	Result Result `json:"result"`
	// RPC that failed, and the error, when Result is Fail.
	RPC    string `json:"rpc,omitempty"`
	Error  string `json:"error,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Report is the whole probe.
type Report struct {
	Driver  string        `json:"driver"`
	Version string        `json:"version"`
	Checks  []Check       `json:"checks"`
	Cleanup []string      `json:"cleanupProblems,omitempty"`
	Took    time.Duration `json:"tookNanoseconds"`
}

// OK reports whether no check failed and the cleanup was complete.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if c.Result == Fail {
			return false
		}
	}
	return len(r.Cleanup) == 0
}

// Names of the checks, in the order they run.
const (
	CheckProbe           = "probe"
	CheckFilesystemMount = "filesystem-mount"
	CheckBlockMount      = "block-mount"
	CheckSnapshot        = "snapshot"
	CheckVolumeFromSnap  = "volume-from-snapshot"
	CheckMetadataAlloc   = "changed-blocks-allocated"
	CheckMetadataDelta   = "changed-blocks-delta"
	defaultSize          = 64 << 20
	defaultTimeout       = 30 * time.Second
	patternBlock         = 64 << 10
)

// Run probes the driver. An error means the probe could not start (an
// endpoint that does not parse, a work directory it cannot make); every
// driver problem is in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	p, err := newProbe(cfg)
	if err != nil {
		return nil, err
	}
	defer p.close()
	start := time.Now()
	p.run(ctx)
	p.report.Cleanup = p.cleanup()
	p.report.Took = time.Since(start)
	return &p.report, nil
}

// probe holds the connections, the capabilities and what was created.
type probe struct {
	cfg    Config
	node   *csi.Conn
	ctl    *csi.Conn
	caps   csi.Capabilities
	topo   map[string]string
	report Report
	undo   []undo
	seq    int
	ownDir bool
}

// undo removes one thing the probe made.
type undo struct {
	what string
	fn   func(context.Context) error
}

func newProbe(cfg Config) (*probe, error) {
	if cfg.SizeBytes <= 0 {
		cfg.SizeBytes = defaultSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &probe{cfg: cfg}
	if cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "cairn-csi-check-")
		if err != nil {
			return nil, fmt.Errorf("create a work directory: %w", err)
		}
		p.cfg.WorkDir, p.ownDir = dir, true
	}
	conf := csi.Config{Endpoint: cfg.Endpoint, Timeout: cfg.Timeout, Attempts: 3, Logger: cfg.Logger}
	node, err := csi.Dial(conf)
	if err != nil {
		return nil, err
	}
	p.node, p.ctl = node, node
	if cfg.ControllerEndpoint != "" && cfg.ControllerEndpoint != cfg.Endpoint {
		conf.Endpoint = cfg.ControllerEndpoint
		if p.ctl, err = csi.Dial(conf); err != nil {
			node.Close()
			return nil, err
		}
	}
	return p, nil
}

func (p *probe) close() {
	p.node.Close()
	if p.ctl != p.node {
		p.ctl.Close()
	}
	if p.ownDir {
		_ = os.Remove(p.cfg.WorkDir) // only if empty: never through a mount
	}
}

// later records how to remove something just made.
func (p *probe) later(what string, fn func(context.Context) error) {
	p.undo = append(p.undo, undo{what: what, fn: fn})
}

// cleanup runs every undo in reverse order, on a context of its own so
// a canceled probe still cleans up, and reports what failed.
func (p *probe) cleanup() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var problems []string
	for i := len(p.undo) - 1; i >= 0; i-- {
		if err := p.undo[i].fn(ctx); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p.undo[i].what, err))
		}
	}
	p.undo = nil
	return problems
}

// add records a check's outcome; err (an *csi.RPCError or a step error)
// makes it a failure.
func (p *probe) add(name string, err error, detail string) bool {
	c := Check{Name: name, Result: Pass, Detail: detail}
	if err != nil {
		c.Result, c.Error = Fail, err.Error()
		var re *csi.RPCError
		if errors.As(err, &re) {
			c.RPC = re.RPC
		}
	}
	p.report.Checks = append(p.report.Checks, c)
	return err == nil
}

func (p *probe) unsupported(name, why string) {
	p.report.Checks = append(p.report.Checks, Check{Name: name, Result: Unsupported, Detail: why})
}
