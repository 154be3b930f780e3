package localcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/cairnbackup/cairn/csi"
	"github.com/cairnbackup/cairn/csi/hostpath"
)

// Node is one simulated node: its driver and its agent.
type Node struct {
	Name string
	// Dir holds the node's kubelet directory, agent state and driver root.
	Dir        string
	KubeletDir string
	StateDir   string
	// Endpoint is the driver's socket, unix:///...
	Endpoint string
	Driver   *hostpath.Driver
	// AgentLog is the file the agent's log goes to.
	AgentLog string

	c          *Cluster
	sockDir    string
	stopDriver func() error
	mu         sync.Mutex
	agent      *exec.Cmd
	agentDone  chan error
	agentArgs  []string
}

// startNode starts the node's driver, registers the node and starts its
// agent.
func (c *Cluster) startNode(ctx context.Context, name string) (*Node, error) {
	n := &Node{Name: name, Dir: filepath.Join(c.cfg.Dir, name), c: c}
	n.KubeletDir, n.StateDir = filepath.Join(n.Dir, "kubelet"), filepath.Join(n.Dir, "agent")
	n.AgentLog = filepath.Join(n.Dir, "agent.log")
	for _, d := range []string{n.KubeletDir, n.StateDir, filepath.Join(n.Dir, "csi")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	// Socket paths must stay short; the node directory may not be.
	sockDir, err := os.MkdirTemp("", "cairn-csi-")
	if err != nil {
		return nil, err
	}
	n.sockDir, n.Endpoint = sockDir, "unix://"+filepath.Join(sockDir, "csi.sock")
	n.stopDriver = func() error { return os.RemoveAll(sockDir) }
	if err := n.startDriver(ctx); err != nil {
		return n, err
	}
	if err := c.registerNode(ctx, n); err != nil {
		return n, err
	}
	return n, n.StartAgent()
}

func (n *Node) startDriver(ctx context.Context) error {
	logf, err := os.Create(filepath.Join(n.Dir, "driver.log"))
	if err != nil {
		return err
	}
	cfg := hostpath.Config{Root: filepath.Join(n.Dir, "csi"), NodeID: n.Name,
		Logger: slog.New(slog.NewJSONHandler(logf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	cfg.Secrets = n.c.cfg.CSISecret
	if n.c.cfg.Driver != nil {
		n.c.cfg.Driver(n.Name, &cfg)
	}
	d, err := hostpath.New(cfg)
	if err != nil {
		logf.Close()
		return fmt.Errorf("start the driver of %s: %w", n.Name, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.ListenAndServe(sctx, n.Endpoint) }()
	n.Driver = d
	n.stopDriver = func() error {
		rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
		defer rcancel()
		err := d.ReleaseAll(rctx)
		cancel()
		return errors.Join(err, <-served, d.Close(), logf.Close(), os.RemoveAll(n.sockDir))
	}
	return waitProbe(ctx, n.Endpoint)
}

// waitProbe waits until the driver answers.
func waitProbe(ctx context.Context, endpoint string) error {
	conn, err := csi.Dial(csi.Config{Endpoint: endpoint, Driver: DriverName, Timeout: time.Second, Attempts: 20,
		Backoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Probe(ctx)
}

// Conn dials the node's driver; close it after use.
func (n *Node) Conn() (*csi.Conn, error) {
	return csi.Dial(csi.Config{Endpoint: n.Endpoint, Driver: DriverName, Timeout: time.Minute, Logger: slog.New(slog.DiscardHandler)})
}

// StartAgent starts the node's cairn-agent process (again).
func (n *Node) StartAgent(extra ...string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.agent != nil {
		return errorf("the agent of %s already runs", n.Name)
	}
	args := append([]string{"--node-name", n.Name, "--namespace", n.c.Namespace, "--state-dir", n.StateDir,
		"--kubelet-dir", n.KubeletDir, "--driver", DriverName + "=" + n.Endpoint,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		"--progress-interval", "500ms", "--takeover-after", "3s", "--log-level", "debug",
		// As deploy/agent.yaml runs it: indexes through the on-disk cache.
		"--max-memory", "256Mi"}, n.c.cfg.AgentArgs...)
	args = append(args, extra...)
	logf, err := os.OpenFile(n.AgentLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(n.c.bin, "cairn-agent"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+n.c.Kubeconfig)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start the agent of %s: %w", n.Name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	n.agent, n.agentDone, n.agentArgs = cmd, done, args
	return nil
}

// StartTwin starts a second agent for the same node, with its own state
// directory and log (a misconfiguration a cluster can see: two agents
// claiming one node). stop ends it.
func (n *Node) StartTwin() (stop func() error, err error) {
	twin := &Node{Name: n.Name, Dir: n.Dir, KubeletDir: n.KubeletDir, StateDir: n.StateDir + "-twin",
		Endpoint: n.Endpoint, AgentLog: n.AgentLog + ".twin", c: n.c}
	if err := os.MkdirAll(twin.StateDir, 0o700); err != nil {
		return nil, err
	}
	if err := twin.StartAgent(); err != nil {
		return nil, err
	}
	return twin.StopAgent, nil
}

// KillAgent kills the agent with SIGKILL, as a node failure would.
func (n *Node) KillAgent() error { return n.signalAgent(syscall.SIGKILL, time.Second) }

// StopAgent stops the agent with SIGTERM and waits for it.
func (n *Node) StopAgent() error { return n.signalAgent(syscall.SIGTERM, 90*time.Second) }

func (n *Node) signalAgent(sig syscall.Signal, wait time.Duration) error {
	n.mu.Lock()
	cmd, done := n.agent, n.agentDone
	n.agent = nil
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return nil
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
		return errorf("the agent of %s did not stop within %s after %s", n.Name, wait, sig)
	}
}

// AgentRunning reports whether the agent process is alive.
func (n *Node) AgentRunning() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.agent == nil {
		return false
	}
	select {
	case err := <-n.agentDone:
		n.agentDone <- err
		return false
	default:
		return true
	}
}

// AgentPID is the agent process's ID, or 0 when it does not run.
func (n *Node) AgentPID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.agent == nil {
		return 0
	}
	return n.agent.Process.Pid
}
