package hostpathtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cairnbackup/cairn/csi/hostpath"
)

// Driver is a driver serving in the test process.
type Driver struct {
	*hostpath.Driver        // the running driver: SetFault, SetHang, Calls, ...
	Endpoint         string // unix:///.../csi.sock
	Socket           string // the socket's path
	Root             string // the driver's root directory
	Work             string // a directory for staging and target paths

	cfg    hostpath.Config
	logs   *Buffer
	cancel context.CancelFunc
	served chan error
}

// Start runs a driver in-process. Empty cfg.Root and cfg.NodeID default to
// a temporary directory (removed at cleanup; a root the caller names is
// released but kept) and "node-1"; a nil cfg.Logger logs JSON at debug
// level into Logs (and its tail into the test log if the test fails).
func Start(t testing.TB, cfg hostpath.Config) *Driver {
	t.Helper()
	d := &Driver{logs: &Buffer{}}
	d.Work = mkdirTemp(t, "csi-work-")
	sockDir := mkdirTemp(t, "csi-")
	d.Socket = filepath.Join(sockDir, "csi.sock")
	d.Endpoint = "unix://" + d.Socket
	ownRoot := cfg.Root == ""
	if ownRoot {
		cfg.Root = mkdirTemp(t, "csi-root-")
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "node-1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(d.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	d.cfg = cfg
	d.Root = cfg.Root
	t.Cleanup(func() {
		d.shutdown(t)
		if t.Failed() {
			t.Logf("driver log (tail):\n%s", d.logs.Tail(32<<10))
		}
		dirs := []string{d.Work, sockDir}
		if ownRoot {
			dirs = append(dirs, cfg.Root)
		}
		for _, dir := range dirs {
			if err := os.RemoveAll(dir); err != nil {
				t.Errorf("remove %s: %v", dir, err)
			}
		}
	})
	d.serve(t)
	return d
}

func (d *Driver) serve(t testing.TB) {
	t.Helper()
	drv, err := hostpath.New(d.cfg)
	if err != nil {
		t.Fatalf("start driver: %v", err)
	}
	l, err := hostpath.Listen(d.Endpoint)
	if err != nil {
		drv.Close()
		t.Fatalf("start driver: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.Driver, d.cancel, d.served = drv, cancel, make(chan error, 1)
	go func() { d.served <- drv.Serve(ctx, l) }()
}

// stop stops serving and closes the driver, leaving mounts in place.
func (d *Driver) stop(t testing.TB) {
	t.Helper()
	if d.cancel == nil {
		return
	}
	d.cancel()
	if err := <-d.served; err != nil {
		t.Errorf("driver served with error: %v", err)
	}
	d.cancel = nil
}

// shutdown stops the driver and releases every mount and loop device it
// recorded, with a fresh driver over the root if the last one is closed.
func (d *Driver) shutdown(t testing.TB) {
	t.Helper()
	d.stop(t)
	if err := d.ReleaseAll(context.Background()); err != nil {
		t.Errorf("release driver mounts and devices: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("close driver: %v", err)
	}
}

// Restart stops the driver and starts a new one over the same root and
// socket, as after a crash or an upgrade: mounts and loop devices stay,
// and the new driver must find them through its state file.
func (d *Driver) Restart(t testing.TB) {
	t.Helper()
	d.stop(t)
	if err := d.Close(); err != nil {
		t.Fatalf("close driver: %v", err)
	}
	d.serve(t)
}

// RestartWith restarts the driver like Restart, with cfg changed first
// (to switch features or faults across a restart). Root and NodeID stay.
func (d *Driver) RestartWith(t testing.TB, change func(*hostpath.Config)) {
	t.Helper()
	root, node := d.cfg.Root, d.cfg.NodeID
	change(&d.cfg)
	d.cfg.Root, d.cfg.NodeID = root, node
	d.Restart(t)
}

// Logs returns what the driver logged so far.
func (d *Driver) Logs() string { return d.logs.String() }

// Conn returns a client connection to the driver, closed at cleanup.
func (d *Driver) Conn(t testing.TB) *grpc.ClientConn { return dial(t, d.Endpoint) }

func dial(t testing.TB, endpoint string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", endpoint, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitReady probes endpoint until the driver answers Ready, failing early
// if exited is closed (a process that died).
func waitReady(endpoint string, exited <-chan struct{}) error {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	id := csi.NewIdentityClient(conn)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := id.Probe(ctx, &csi.ProbeRequest{})
		cancel()
		if err == nil && resp.GetReady().GetValue() {
			return nil
		}
		select {
		case <-exited:
			return errors.New("driver exited before it was ready")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("driver at %s not ready after 20s: %v", endpoint, err)
		}
	}
}

func mkdirTemp(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatalf("make temp dir: %v", err)
	}
	return dir
}

// Buffer is a goroutine-safe log sink.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Tail returns the last n bytes, from a line start.
func (b *Buffer) Tail(n int) string {
	s := b.String()
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
