package nodeagent

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/csi"
)

// Config is what cmd/cairn-agent parses from its flags.
type Config struct {
	// NodeName is the node whose work items this agent runs.
	NodeName string
	// InstanceID identifies this process in status.agent; default
	// NodeName/hostname/random, unique per start.
	InstanceID string
	// Namespace is where cairn's objects live.
	Namespace string
	// StateDir holds the agent's private mounts and its journal; it must
	// survive a restart of the agent (a hostPath on the node). The default
	// is under the kubelet's plugin directory because CSI drivers publish
	// into it from their own pods, and those see only the kubelet's tree.
	StateDir string
	// KubeletDir is the kubelet's root directory, for the CSI sockets and
	// the pod-volume directories; default /var/lib/kubelet.
	KubeletDir string
	// Drivers overrides where a driver's services are reached; by default
	// both are the socket in the kubelet plugin directory.
	Drivers map[string]DriverEndpoints
	// MaxConcurrent items at once; default DefaultMaxConcurrent.
	MaxConcurrent int
	// ProgressInterval is how often status is written while an item runs;
	// default 5s.
	ProgressInterval time.Duration
	// TakeoverAfter is how stale an InProgress item's heartbeat must be
	// before another agent takes it over; default 30s (six missed beats).
	TakeoverAfter time.Duration
	// CSI sets timeouts and retries for driver calls (Endpoint and Driver
	// are filled per driver).
	CSI csi.Config
	// KeepBaseSnapshots keeps the last snapshot of each block volume on
	// drivers that serve SnapshotMetadata, as the base of the next
	// changed-block incremental. Default on; see DefaultConfig.
	KeepBaseSnapshots bool
	// Workers and Uploads tune the backup pipeline (0: its defaults).
	Workers, Uploads int
	// TrustMtime lets an incremental backup of a snapshot's file system
	// skip files whose size and mtime match the parent (restic's
	// --ignore-inode --ignore-ctime): a snapshot mounted as a new volume
	// gives every file a new inode and change time, so the strict test
	// would read the whole volume every time. Default on.
	TrustMtime bool
	// ReadLimit bounds how fast each backup reads its volume, in bytes per
	// second (0: no limit), so backups leave applications their disk.
	ReadLimit int64
	// KDF is the password-hash cost for repositories the agent initialises
	// (tests lower it); zero means the default.
	KDF crypto.KDFParams
	// MaxMemory, when set, is the memory budget the work items running at
	// once share for their repository indexes and restore plans: each
	// reads its index through an on-disk cache in IndexCacheDir (default
	// StateDir/index-cache, which survives restarts, so the cache stays
	// warm) within MaxMemory/MaxConcurrent, at least 64 MiB. Zero loads
	// each repository's whole index into memory.
	MaxMemory     int64
	IndexCacheDir string
	// JanitorInterval is how often superseded base snapshots are looked
	// for; default 10m.
	JanitorInterval time.Duration
	Logger          *slog.Logger
}

// DriverEndpoints are where one driver's controller and node services are.
type DriverEndpoints struct {
	Controller, Node string
}

// DefaultMaxConcurrent is two items per node: one item already keeps both
// cores of a small node busy chunking and hashing, and a second overlaps
// the first's snapshot, mount and upload waits, while two pipelines stay
// within the agent's memory budget (about 150 MiB each).
const DefaultMaxConcurrent = 2

// DefaultConfig returns the defaults for node.
func DefaultConfig(node string) Config {
	return Config{NodeName: node, Namespace: "cairn-system", StateDir: "/var/lib/kubelet/plugins/cairn.dev/agent",
		KubeletDir: "/var/lib/kubelet", KeepBaseSnapshots: true, TrustMtime: true}
}

func (c Config) withDefaults() (Config, error) {
	if c.NodeName == "" {
		return c, fmt.Errorf("agent: no node name; pass --node-name or set NODE_NAME from the pod's spec.nodeName")
	}
	if c.StateDir == "" {
		return c, fmt.Errorf("agent: no state directory")
	}
	if c.KubeletDir == "" {
		c.KubeletDir = "/var/lib/kubelet"
	}
	if c.Namespace == "" {
		c.Namespace = "cairn-system"
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = 5 * time.Second
	}
	if c.TakeoverAfter <= 0 {
		c.TakeoverAfter = 30 * time.Second
	}
	if c.MaxMemory > 0 && c.IndexCacheDir == "" {
		c.IndexCacheDir = filepath.Join(c.StateDir, "index-cache")
	}
	if c.JanitorInterval <= 0 {
		c.JanitorInterval = 10 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.InstanceID == "" {
		c.InstanceID = instanceID(c.NodeName)
	}
	return c, nil
}

func instanceID(node string) string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return node + "/" + host + "/" + hex.EncodeToString(b[:])
}

// minJobMemory is the smallest budget a work item's index gets, as the
// repository CLI's --max-memory accepts no less.
const minJobMemory = 64 << 20

// jobBudget is how each work item reads its repository's index.
func (c Config) jobBudget() locations.Bounded {
	if c.MaxMemory <= 0 {
		return locations.Bounded{}
	}
	return locations.Bounded{IndexCache: c.IndexCacheDir, MaxMemory: max(minJobMemory, c.MaxMemory/int64(c.MaxConcurrent))}
}

// endpoints returns where driver's services are reached.
func (c Config) endpoints(driver string) DriverEndpoints {
	e := c.Drivers[driver]
	def := "unix://" + filepath.Join(c.KubeletDir, "plugins", driver, "csi.sock")
	if e.Controller == "" {
		e.Controller = def
	}
	if e.Node == "" {
		e.Node = def
	}
	return e
}

func (c Config) mountDir(uid string) string { return filepath.Join(c.StateDir, "mounts", uid) }
func (c Config) journalDir() string         { return filepath.Join(c.StateDir, "journal") }
