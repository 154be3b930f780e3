package hostpath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
)

// DefaultDriverName is the CSI driver name reported by GetPluginInfo.
const DefaultDriverName = "hostpath.csi.cairn.dev"

// DefaultBlockSize is the granularity of block maps. 64 KiB keeps a 2 GiB
// volume's map at 32768 entries (1 MiB on disk) while a changed-block
// incremental that rewrites scattered 4 KiB pages still reads only a small
// multiple of what changed.
const DefaultBlockSize = 64 << 10

// TopologyKey is the topology segment every volume is accessible from:
// volumes live on one node's disk.
const TopologyKey = "topology.hostpath.csi.cairn.dev/node"

// Feature names a capability that Config.Disabled can switch off, so that
// a consumer's handling of a driver without it can be tested.
type Feature string

const (
	// FeatureSnapshots: CREATE_DELETE_SNAPSHOT, LIST_SNAPSHOTS, GET_SNAPSHOT.
	// Turning it off also turns off the two features that need snapshots.
	FeatureSnapshots Feature = "snapshots"
	// FeatureVolumeFromSnapshot: CreateVolume with a snapshot content source.
	FeatureVolumeFromSnapshot Feature = "volume-from-snapshot"
	// FeatureBlock: the block access type.
	FeatureBlock Feature = "block"
	// FeatureSnapshotMetadata: the SnapshotMetadata service.
	FeatureSnapshotMetadata Feature = "snapshot-metadata"
)

var allFeatures = []Feature{FeatureSnapshots, FeatureVolumeFromSnapshot, FeatureBlock, FeatureSnapshotMetadata}

// ParseFeatures parses a comma-separated list such as "block,snapshots".
func ParseFeatures(list string) ([]Feature, error) {
	var out []Feature
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !knownFeature(Feature(f)) {
			return nil, fmt.Errorf("unknown feature %q (known: %v)", f, allFeatures)
		}
		out = append(out, Feature(f))
	}
	return out, nil
}

func knownFeature(f Feature) bool {
	for _, k := range allFeatures {
		if f == k {
			return true
		}
	}
	return false
}

// LoopMode says whether block volumes are exposed through loop devices.
type LoopMode string

const (
	// LoopAuto uses loop devices when /dev/loop-control can be opened, and
	// bind-mounts the image file itself otherwise.
	LoopAuto LoopMode = "auto"
	// LoopOff always bind-mounts the image file (the fallback path).
	LoopOff LoopMode = "off"
	// LoopRequired fails New when loop devices are unavailable.
	LoopRequired LoopMode = "required"
)

// Config configures a Driver. Root and NodeID are required.
type Config struct {
	Root          string // directory holding volumes, snapshots and the state file
	NodeID        string
	DriverName    string // default DefaultDriverName
	VendorVersion string // default "dev"
	// Capacity caps the sum of the capacities of the volumes that own their
	// data; 0 means no cap beyond the free space of Root's file system.
	Capacity  int64
	BlockSize int64 // block-map granularity; default DefaultBlockSize
	Disabled  []Feature
	Loop      LoopMode // default LoopAuto
	// Faults and Hangs are installed at start; see SetFault and SetHang.
	Faults []Fault
	Hangs  []string
	// Secrets, when set, must all be present with these values in the
	// secrets map of every Controller RPC that carries one.
	Secrets map[string]string
	Logger  *slog.Logger // default slog.Default()
}

func (c *Config) setDefaults() error {
	if c.Root == "" {
		return errors.New("config: Root is required")
	}
	if c.NodeID == "" {
		return errors.New("config: NodeID is required")
	}
	if c.DriverName == "" {
		c.DriverName = DefaultDriverName
	}
	if c.VendorVersion == "" {
		c.VendorVersion = "dev"
	}
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.BlockSize < 4096 || c.BlockSize > 16<<20 || bits.OnesCount64(uint64(c.BlockSize)) != 1 {
		return fmt.Errorf("config: block size %d is not a power of two between 4 KiB and 16 MiB", c.BlockSize)
	}
	if c.Capacity < 0 {
		return fmt.Errorf("config: negative capacity %d", c.Capacity)
	}
	if c.Loop == "" {
		c.Loop = LoopAuto
	}
	if c.Loop != LoopAuto && c.Loop != LoopOff && c.Loop != LoopRequired {
		return fmt.Errorf("config: loop mode %q is not auto, off or required", c.Loop)
	}
	for _, f := range c.Disabled {
		if !knownFeature(f) {
			return fmt.Errorf("config: unknown feature %q", f)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Driver is a CSI plugin serving the Identity, Controller, Node and
// SnapshotMetadata services over volumes kept under one root directory.
type Driver struct {
	cfg      Config
	log      *slog.Logger
	lay      layout
	lock     *os.File // flock on the root: one driver per root
	useLoop  bool
	disabled map[Feature]bool
	knobs    *knobs

	mu       sync.Mutex // guards everything below, and writes of the state file
	st       *state
	busy     map[string]bool // names and paths with a create/stage/publish in flight
	pins     map[string]int  // volume and snapshot IDs being read by a copy
	reserved int64           // capacity of volumes being created
}

// New opens (or initialises) the driver's root, loads its state and
// repairs what a crash may have left: temporary files, data directories no
// record points to, and loop devices no record owns.
func New(cfg Config) (*Driver, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	root, err := resolveRoot(cfg.Root)
	if err != nil {
		return nil, err
	}
	cfg.Root = root
	d := &Driver{
		cfg:      cfg,
		log:      cfg.Logger.With("driver", cfg.DriverName, "node", cfg.NodeID),
		lay:      layout{root: root},
		disabled: map[Feature]bool{},
		busy:     map[string]bool{},
		pins:     map[string]int{},
	}
	for _, f := range cfg.Disabled {
		d.disabled[f] = true
	}
	if d.knobs, err = newKnobs(cfg.Faults, cfg.Hangs); err != nil {
		return nil, err
	}
	if err := d.lay.init(); err != nil {
		return nil, err
	}
	if d.lock, err = lockRoot(root); err != nil {
		return nil, err
	}
	if err := d.open(); err != nil {
		d.lock.Close()
		return nil, err
	}
	return d, nil
}

func (d *Driver) open() error {
	st, err := loadState(d.lay.stateFile())
	if err != nil {
		return err
	}
	d.st = st
	d.useLoop, err = d.loopAvailable()
	if err != nil {
		return err
	}
	if err := d.lay.removeTemp(); err != nil {
		return err
	}
	d.detachLeakedLoops() // before removeOrphans deletes their images
	if err := d.removeOrphans(); err != nil {
		return err
	}
	d.log.Info("driver state loaded", "root", d.cfg.Root, "volumes", len(st.Volumes),
		"snapshots", len(st.Snapshots), "published", len(st.Publications), "staged", len(st.Stages),
		"loopDevices", d.useLoop)
	return nil
}

func (d *Driver) loopAvailable() (bool, error) {
	if d.cfg.Loop == LoopOff {
		return false, nil
	}
	err := d.probeLoop()
	if err == nil {
		return true, nil
	}
	if d.cfg.Loop == LoopRequired {
		return false, fmt.Errorf("loop devices required: %w", err)
	}
	d.log.Warn("loop devices unavailable; block volumes are published as image files", "error", err)
	return false, nil
}

// resolveRoot creates the root and returns it absolute with symlinks
// resolved, the form in which the kernel reports mount sources and loop
// devices' backing files, so paths compare as strings.
func resolveRoot(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("resolve root %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return "", fmt.Errorf("create root %s: %w", abs, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("resolve root %s: %w", abs, err)
	}
	return real, nil
}

func lockRoot(root string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(root, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file in %s: %w", root, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock root %s (is another driver using it?): %w", root, err)
	}
	return f, nil
}

// UsesLoopDevices reports whether block volumes are published through loop
// devices (true) or as bind-mounted image files (false).
func (d *Driver) UsesLoopDevices() bool { return d.useLoop }

// Root returns the absolute root directory.
func (d *Driver) Root() string { return d.cfg.Root }

// Close releases the root; call it after Serve has returned. Mounts and
// loop devices stay in place so that a driver started again over the same
// root can unpublish them; ReleaseAll removes them.
func (d *Driver) Close() error {
	if d.lock == nil {
		return nil
	}
	err := d.lock.Close()
	d.lock = nil
	return err
}

func (d *Driver) enabled(f Feature) bool {
	switch f {
	case FeatureVolumeFromSnapshot:
		return !d.disabled[f] && !d.disabled[FeatureSnapshots]
	case FeatureSnapshotMetadata:
		return !d.disabled[f] && !d.disabled[FeatureSnapshots] && !d.disabled[FeatureBlock]
	}
	return !d.disabled[f]
}

// NewServer returns a gRPC server with all four CSI services registered
// behind the logging, fault-injection and secret-checking interceptors.
func (d *Driver) NewServer() *grpc.Server {
	s := grpc.NewServer(
		grpc.ChainUnaryInterceptor(d.logUnary, d.knobs.unary, d.checkSecretsUnary),
		grpc.ChainStreamInterceptor(d.logStream, d.knobs.stream),
	)
	csi.RegisterIdentityServer(s, &identityServer{d: d})
	csi.RegisterControllerServer(s, &controllerServer{d: d})
	csi.RegisterNodeServer(s, &nodeServer{d: d})
	csi.RegisterSnapshotMetadataServer(s, &metadataServer{d: d})
	return s
}

// stopGrace bounds how long Serve waits for in-flight RPCs after its
// context ends; hung RPCs (SetHang) are then cancelled.
const stopGrace = 2 * time.Second

// Serve serves the CSI services on l until ctx ends, then stops the server
// and returns nil. An error means the listener failed.
func (d *Driver) Serve(ctx context.Context, l net.Listener) error {
	s := d.NewServer()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		graceful := make(chan struct{})
		go func() { s.GracefulStop(); close(graceful) }()
		select {
		case <-graceful:
		case <-time.After(stopGrace):
			s.Stop()
			<-graceful
		}
	}()
	err := s.Serve(l)
	close(done)
	<-stopped
	if ctx.Err() != nil || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// ListenAndServe listens on endpoint (unix:///path or a bare path) and
// serves until ctx ends.
func (d *Driver) ListenAndServe(ctx context.Context, endpoint string) error {
	l, err := Listen(endpoint)
	if err != nil {
		return err
	}
	return d.Serve(ctx, l)
}

// Listen opens a unix socket listener for endpoint, removing a stale
// socket file left by an earlier process.
func Listen(endpoint string) (net.Listener, error) {
	path, err := SocketPath(endpoint)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create socket directory for %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return l, nil
}

// SocketPath returns the file system path of a unix:// endpoint.
func SocketPath(endpoint string) (string, error) {
	if !strings.Contains(endpoint, "://") {
		if endpoint == "" {
			return "", errors.New("empty endpoint")
		}
		return endpoint, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("parse endpoint %q: %w", endpoint, err)
	}
	if u.Scheme != "unix" {
		return "", fmt.Errorf("endpoint %q: only unix:// sockets are supported", endpoint)
	}
	p := u.Path
	if u.Host != "" { // unix://relative/path
		p = u.Host + p
	}
	if p == "" {
		return "", fmt.Errorf("endpoint %q has no path", endpoint)
	}
	return p, nil
}
