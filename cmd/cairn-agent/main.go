// Command cairn-agent is cairn's node agent: it runs on every node (a
// DaemonSet pod) and moves the data of the node's VolumeBackup and
// VolumeRestore work items.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/resource"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cairnbackup/cairn/nodeagent"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cairn-agent:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := nodeagent.DefaultConfig(os.Getenv("NODE_NAME"))
	var s nodeagent.Serving
	drivers := driverFlag{m: map[string]nodeagent.DriverEndpoints{}}
	level := new(slog.LevelVar)
	flag.StringVar(&cfg.NodeName, "node-name", cfg.NodeName, "node whose work items this agent runs (default $NODE_NAME)")
	flag.StringVar(&cfg.Namespace, "namespace", envOr("POD_NAMESPACE", cfg.Namespace), "namespace cairn runs in")
	flag.StringVar(&cfg.StateDir, "state-dir", cfg.StateDir, "private directory for mounts and the journal; must survive agent restarts")
	flag.StringVar(&cfg.KubeletDir, "kubelet-dir", cfg.KubeletDir, "the kubelet's root directory")
	flag.Var(&drivers, "driver", "a CSI driver this node runs, as NAME or NAME=CONTROLLER_ENDPOINT[,NODE_ENDPOINT] (repeatable); "+
		"by default a driver is reached at <kubelet-dir>/plugins/NAME/csi.sock")
	flag.IntVar(&cfg.MaxConcurrent, "max-concurrent", nodeagent.DefaultMaxConcurrent, "work items that run at once on this node")
	flag.DurationVar(&cfg.ProgressInterval, "progress-interval", 5*time.Second, "how often progress is written to status")
	flag.DurationVar(&cfg.TakeoverAfter, "takeover-after", 30*time.Second, "how stale a running item's heartbeat must be before this agent takes it over")
	flag.DurationVar(&cfg.CSI.Timeout, "csi-timeout", time.Minute, "timeout of each CSI call attempt")
	flag.IntVar(&cfg.CSI.Attempts, "csi-attempts", 5, "attempts of a CSI call that fails with Unavailable, DeadlineExceeded or Aborted")
	flag.BoolVar(&cfg.KeepBaseSnapshots, "keep-base-snapshots", true, "keep each block volume's last snapshot on drivers with SnapshotMetadata, for changed-block incrementals")
	flag.BoolVar(&cfg.TrustMtime, "trust-mtime", true, "an incremental of a snapshot's files skips those whose size and mtime match the parent (snapshots get new inodes)")
	flag.IntVar(&cfg.Workers, "workers", 0, "chunking workers per backup (0: one per CPU)")
	flag.IntVar(&cfg.Uploads, "uploads", 0, "packs in flight per backup (0: the repository's default)")
	flag.Int64Var(&cfg.ReadLimit, "read-limit", 0, "bytes per second each backup may read from its volume (0: no limit)")
	flag.Var(memoryFlag{&cfg.MaxMemory}, "max-memory", "memory budget the running work items share for their repository indexes and restore plans, "+
		"e.g. 512Mi: each reads its index through an on-disk cache (default: each repository's whole index in memory)")
	flag.StringVar(&cfg.IndexCacheDir, "index-cache-dir", "", "directory of the on-disk index cache (default STATE_DIR/index-cache)")
	flag.StringVar(&s.MetricsAddr, "metrics-bind-address", ":8085", "address of the Prometheus metrics endpoint")
	flag.StringVar(&s.ProbeAddr, "health-probe-bind-address", ":8086", "address of /healthz and /readyz")
	flag.TextVar(level, "log-level", level, "log level: debug, info, warn or error")
	flag.Parse()
	cfg.Drivers = drivers.m
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = log.With("node", cfg.NodeName)
	ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
	mgr, agent, err := nodeagent.NewManager(ctrl.GetConfigOrDie(), cfg, s)
	if err != nil {
		return err
	}
	log.Info("agent starting", "node", cfg.NodeName, "instance", agent.InstanceID(), "stateDir", cfg.StateDir, "maxMemory", cfg.MaxMemory)
	return mgr.Start(ctrl.SetupSignalHandler())
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// memoryFlag parses --max-memory as a Kubernetes quantity.
type memoryFlag struct{ bytes *int64 }

func (m memoryFlag) String() string {
	if m.bytes == nil || *m.bytes == 0 {
		return ""
	}
	return resource.NewQuantity(*m.bytes, resource.BinarySI).String()
}

func (m memoryFlag) Set(v string) error {
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return fmt.Errorf("%q is not a quantity; give bytes with a unit, such as 512Mi or 2Gi", v)
	}
	if q.Value() < 64<<20 {
		return fmt.Errorf("%s is below the 64Mi an index cache needs at least", v)
	}
	*m.bytes = q.Value()
	return nil
}

// driverFlag parses repeated --driver values.
type driverFlag struct {
	m map[string]nodeagent.DriverEndpoints
}

func (d *driverFlag) String() string { return "" }

func (d *driverFlag) Set(v string) error {
	name, eps, _ := strings.Cut(v, "=")
	if name == "" {
		return fmt.Errorf("--driver %q: want NAME or NAME=CONTROLLER_ENDPOINT[,NODE_ENDPOINT]", v)
	}
	ctl, node, _ := strings.Cut(eps, ",")
	if node == "" {
		node = ctl
	}
	d.m[name] = nodeagent.DriverEndpoints{Controller: ctl, Node: node}
	return nil
}
