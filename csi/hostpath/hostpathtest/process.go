package hostpathtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"google.golang.org/grpc"

	"github.com/cairnbackup/cairn/csi/hostpath"
)

var build struct {
	once sync.Once
	path string
	err  error
}

// BuildBinary builds cmd/cairn-csi-hostpath once per test process and
// returns its path. The binary goes to a fixed directory under the system
// temp dir, named after the module's location, so that successive test
// processes reuse one file instead of leaking one each; it is replaced
// atomically, and the Go build cache makes the rebuild cheap.
func BuildBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.path, build.err = buildBinary() })
	if build.err != nil {
		t.Fatalf("build cairn-csi-hostpath: %v", build.err)
	}
	return build.path
}

func buildBinary() (string, error) {
	mod, err := moduleRoot()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(mod))
	dir := filepath.Join(os.TempDir(), "cairn-test-bin-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "cairn-csi-hostpath")
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	cmd := exec.Command(goTool(), "build", "-buildvcs=false", "-o", tmp, "./cmd/cairn-csi-hostpath")
	cmd.Dir = mod
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build in %s: %w\n%s", mod, err, b)
	}
	return out, os.Rename(tmp, out)
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/cairnbackup/cairn\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/cairnbackup/cairn above the working directory")
		}
		dir = parent
	}
}

// goTool finds the go command: on PATH, else in the GOROOT that built
// this test binary.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go") //lint:ignore SA1019 only a fallback when go is not on PATH
}

// Process is a cairn-csi-hostpath process.
type Process struct {
	Endpoint string // unix:///.../csi.sock
	Socket   string
	Root     string
	Work     string // a directory for staging and target paths
	Args     []string

	bin    string
	cfg    hostpath.Config
	logs   *Buffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartProcess starts the binary with flags made from cfg (Flags) and
// waits until it answers Probe. Empty cfg.Root and cfg.NodeID default as
// in Start; the process's stderr (its JSON log) goes to Logs.
func StartProcess(t testing.TB, cfg hostpath.Config) *Process {
	t.Helper()
	p := &Process{bin: BuildBinary(t), logs: &Buffer{}, Work: mkdirTemp(t, "csi-work-")}
	sockDir := mkdirTemp(t, "csi-")
	p.Socket = filepath.Join(sockDir, "csi.sock")
	p.Endpoint = "unix://" + p.Socket
	ownRoot := cfg.Root == ""
	if ownRoot {
		cfg.Root = mkdirTemp(t, "csi-root-")
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "node-1"
	}
	p.cfg, p.Root = cfg, cfg.Root
	args, err := Flags(cfg)
	if err != nil {
		t.Fatalf("driver flags: %v", err)
	}
	p.Args = append([]string{"--endpoint", p.Endpoint, "--log-level", "debug"}, args...)
	t.Cleanup(func() {
		p.cleanup(t)
		if t.Failed() {
			t.Logf("driver process log (tail):\n%s", p.logs.Tail(32<<10))
		}
		dirs := []string{p.Work, sockDir}
		if ownRoot {
			dirs = append(dirs, cfg.Root)
		}
		for _, dir := range dirs {
			if err := os.RemoveAll(dir); err != nil {
				t.Errorf("remove %s: %v", dir, err)
			}
		}
	})
	p.start(t)
	return p
}

func (p *Process) start(t testing.TB) {
	t.Helper()
	p.cmd = exec.Command(p.bin, p.Args...)
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.bin, err)
	}
	p.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait() // the exit status is in cmd.ProcessState
		close(exited)
	}(p.cmd, p.exited)
	if err := waitReady(p.Endpoint, p.exited); err != nil {
		t.Fatalf("driver process: %v", err)
	}
}

// Kill ends the process with SIGKILL, as a crash would: it gets no chance
// to clean up, and its mounts and loop devices stay.
func (p *Process) Kill(t testing.TB) { t.Helper(); p.signal(t, syscall.SIGKILL) }

// Stop ends the process with SIGTERM and waits for it.
func (p *Process) Stop(t testing.TB) { t.Helper(); p.signal(t, syscall.SIGTERM) }

func (p *Process) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if p.cmd == nil {
		return
	}
	select {
	case <-p.exited:
	default:
		if err := p.cmd.Process.Signal(sig); err != nil {
			t.Fatalf("signal driver process: %v", err)
		}
		<-p.exited
	}
	p.cmd = nil
}

// Restart kills the process if it still runs and starts it again with the
// same flags over the same root.
func (p *Process) Restart(t testing.TB) {
	t.Helper()
	p.Kill(t)
	p.start(t)
}

// Logs returns the process's log output so far.
func (p *Process) Logs() string { return p.logs.String() }

// Conn returns a client connection to the process, closed at cleanup.
func (p *Process) Conn(t testing.TB) *grpc.ClientConn { return dial(t, p.Endpoint) }

// cleanup kills the process and releases what it left mounted or
// attached, with an in-process driver over the same root: the same path a
// restarted driver takes.
func (p *Process) cleanup(t testing.TB) {
	p.Kill(t)
	cfg := p.cfg
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Faults, cfg.Hangs = nil, nil
	d, err := hostpath.New(cfg)
	if err != nil {
		t.Errorf("open driver root for cleanup: %v", err)
		return
	}
	defer d.Close()
	if err := d.ReleaseAll(context.Background()); err != nil {
		t.Errorf("release driver mounts and devices: %v", err)
	}
}

// Flags returns the cairn-csi-hostpath flags that configure cfg, except
// --endpoint and the logger. Faults with Times > 0 have no flag form.
func Flags(cfg hostpath.Config) ([]string, error) {
	args := []string{"--root", cfg.Root, "--node-id", cfg.NodeID}
	add := func(name, value string) { args = append(args, "--"+name, value) }
	if cfg.DriverName != "" {
		add("driver-name", cfg.DriverName)
	}
	if cfg.VendorVersion != "" {
		add("vendor-version", cfg.VendorVersion)
	}
	if cfg.Capacity != 0 {
		add("capacity", strconv.FormatInt(cfg.Capacity, 10))
	}
	if cfg.BlockSize != 0 {
		add("block-size", strconv.FormatInt(cfg.BlockSize, 10))
	}
	if len(cfg.Disabled) > 0 {
		var names []string
		for _, f := range cfg.Disabled {
			names = append(names, string(f))
		}
		add("disable", strings.Join(names, ","))
	}
	if cfg.Loop != "" {
		add("loop-devices", string(cfg.Loop))
	}
	for _, f := range cfg.Faults {
		if f.Times > 0 {
			return nil, fmt.Errorf("fault on %s: Times has no flag form", f.RPC)
		}
		add("fault", fmt.Sprintf("%s=%s:%s", f.RPC, f.Code, f.Message))
	}
	for _, h := range cfg.Hangs {
		add("hang", h)
	}
	keys := make([]string, 0, len(cfg.Secrets))
	for k := range cfg.Secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add("secret", k+"="+cfg.Secrets[k])
	}
	return args, nil
}
