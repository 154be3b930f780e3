package localcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/controlplane/manager"
	"github.com/cairnbackup/cairn/controlplane/testenv"
	"github.com/cairnbackup/cairn/csi/hostpath"
)

// Config says what to run.
type Config struct {
	// Dir holds everything the cluster writes; required.
	Dir string
	// Nodes to simulate; default node-a and node-b.
	Nodes []string
	// Namespace cairn runs in; default cairn-system.
	Namespace string
	// BinDir holds cairn-agent; when empty it is built into Dir.
	BinDir string
	// AgentArgs are extra flags for every agent.
	AgentArgs []string
	// Driver adjusts a node's driver configuration before it starts.
	Driver func(node string, cfg *hostpath.Config)
	// NoController leaves the controller out (a test or the demo starts
	// its own).
	NoController bool
	// PollInterval of the controllers; default 300ms, for brisk tests.
	PollInterval time.Duration
	// Log receives the controller's log; default a file in Dir.
	Log io.Writer
	// CSISecret, when set, is required by every driver's controller calls;
	// the storage class names a Secret holding it, as a vendor's would.
	CSISecret map[string]string
}

// Cluster is a running local installation.
type Cluster struct {
	cfg        Config
	Env        *testenv.Env
	Client     client.Client
	Kubeconfig string
	Namespace  string
	Nodes      map[string]*Node
	bin        string
	stopCtl    context.CancelFunc
	ctlDone    chan error
	volumes    []*Volume
	logFile    *os.File
}

// DriverName is the reference driver's name in the cluster.
const DriverName = hostpath.DefaultDriverName

// StorageClass is the class provisioned by the reference driver.
const StorageClass = "cairn-hostpath"

// Start brings the cluster up; Stop takes it down, also after a failed
// Start.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Dir == "" {
		return nil, errors.New("localcluster: no directory")
	}
	if len(cfg.Nodes) == 0 {
		cfg.Nodes = []string{"node-a", "node-b"}
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "cairn-system"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 300 * time.Millisecond
	}
	c := &Cluster{cfg: cfg, Namespace: cfg.Namespace, Nodes: map[string]*Node{}}
	if err := c.start(ctx); err != nil {
		return c, errors.Join(err, c.Stop())
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	if err := os.MkdirAll(c.cfg.Dir, 0o700); err != nil {
		return err
	}
	bin, err := c.binaries()
	if err != nil {
		return err
	}
	c.bin = bin
	if err := c.setLogger(); err != nil {
		return err
	}
	if c.Env, err = testenv.Launch(); err != nil {
		return err
	}
	c.Client = c.Env.Client
	c.Kubeconfig = filepath.Join(c.cfg.Dir, "kubeconfig")
	if err := c.Env.WriteKubeconfig(c.Kubeconfig); err != nil {
		return err
	}
	if err := c.baseObjects(ctx); err != nil {
		return err
	}
	if !c.cfg.NoController {
		if err := c.startController(); err != nil {
			return err
		}
	}
	for _, name := range c.cfg.Nodes {
		n, err := c.startNode(ctx, name)
		if n != nil {
			c.Nodes[name] = n
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// setLogger sends controller-runtime's log (the API clients' and the
// controller's) to Config.Log, else to a file in Dir. It is set before
// any client exists: controller-runtime complains on stderr otherwise.
func (c *Cluster) setLogger() error {
	w := c.cfg.Log
	if w == nil {
		f, err := os.Create(filepath.Join(c.cfg.Dir, "controller.log"))
		if err != nil {
			return err
		}
		c.logFile, w = f, f
	}
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(w, nil)))
	return nil
}

// startController runs cairn's controllers in this process.
func (c *Cluster) startController() error {
	mgr, err := manager.New(c.Env.Config, manager.Config{MetricsAddr: "0", ProbeAddr: "0", MaxConcurrentBackups: 2,
		MaxConcurrentRestore: 2, SnapshotTimeout: time.Minute, SyncInterval: time.Hour, PollInterval: c.cfg.PollInterval,
		KDF: crypto.FastKDFForTests, SkipNameValidation: true})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stopCtl, c.ctlDone = cancel, make(chan error, 1)
	go func() { c.ctlDone <- mgr.Start(ctx) }()
	return nil
}

// Stop stops every agent, driver and server and removes what the nodes
// mounted. It reports the first problem but always does everything.
func (c *Cluster) Stop() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.StopAgent())
	}
	if c.stopCtl != nil {
		c.stopCtl()
		errs = append(errs, <-c.ctlDone)
		c.stopCtl = nil
	}
	for _, v := range c.volumes {
		errs = append(errs, v.unpublish(context.Background()))
	}
	for name, n := range c.Nodes {
		errs = append(errs, n.stopDriver())
		delete(c.Nodes, name)
	}
	if c.Env != nil {
		errs = append(errs, c.Env.Stop())
		c.Env = nil
	}
	if c.logFile != nil {
		errs = append(errs, c.logFile.Close())
		c.logFile = nil
	}
	return errors.Join(errs...)
}

// Password is a fresh random repository password.
func Password() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func errorf(format string, args ...any) error { return fmt.Errorf("localcluster: "+format, args...) }

// BinDir holds the cairn and cairn-agent binaries the cluster runs.
func (c *Cluster) BinDir() string { return c.bin }
