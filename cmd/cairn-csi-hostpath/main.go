// Command cairn-csi-hostpath runs cairn's reference CSI driver
// (csi/hostpath): volumes as directories and image files under --root,
// all four CSI services on one unix socket. With --registration-socket it
// also registers itself with the kubelet (package kubeletreg), so that it
// runs as a DaemonSet pod without node-driver-registrar.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/csi/hostpath"
	"github.com/cairnbackup/cairn/kubeletreg"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cairn-csi-hostpath:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	opts, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg := opts.cfg
	d, err := hostpath.New(cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The CSI socket listens before the kubelet is told of it: the kubelet
	// calls NodeGetInfo as soon as it reads the registration.
	l, err := hostpath.Listen(opts.endpoint)
	if err != nil {
		return err
	}
	cfg.Logger.Info("serving", "endpoint", opts.endpoint, "root", d.Root(), "loopDevices", d.UsesLoopDevices(),
		"disabled", cfg.Disabled, "secretKeys", len(cfg.Secrets))
	if opts.registration.Socket == "" {
		return d.Serve(ctx, l)
	}
	reg, err := kubeletreg.New(opts.registration)
	if err != nil {
		l.Close()
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.Serve(gctx, l) })
	g.Go(func() error { return reg.Serve(gctx) })
	return g.Wait()
}

// options are the parsed flags.
type options struct {
	cfg          hostpath.Config
	endpoint     string
	registration kubeletreg.Config // Socket empty: no kubelet registration
}

func parseFlags(args []string) (options, error) {
	var (
		cfg                             hostpath.Config
		endpoint, capacity, blockSize   string
		disable, loop, logLevel, logFmt string
		faults, hangs, secrets          listFlag
	)
	fs := flag.NewFlagSet("cairn-csi-hostpath", flag.ContinueOnError)
	host, _ := os.Hostname()
	defEndpoint := os.Getenv("CSI_ENDPOINT") // how the CSI spec hands a plugin its socket
	if defEndpoint == "" {
		defEndpoint = "unix:///var/lib/kubelet/plugins/" + hostpath.DefaultDriverName + "/csi.sock"
	}
	fs.StringVar(&endpoint, "endpoint", defEndpoint, "unix:// socket serving identity, controller, node and snapshot-metadata")
	fs.StringVar(&cfg.Root, "root", "/var/lib/cairn-csi-hostpath", "directory holding volumes, snapshots and state")
	fs.StringVar(&cfg.NodeID, "node-id", host, "node ID, also the topology segment "+hostpath.TopologyKey)
	fs.StringVar(&cfg.DriverName, "driver-name", hostpath.DefaultDriverName, "CSI driver name")
	fs.StringVar(&cfg.VendorVersion, "vendor-version", "dev", "version reported by GetPluginInfo")
	fs.StringVar(&capacity, "capacity", "0", "cap on the total capacity of volumes (bytes, or with Ki/Mi/Gi/Ti); 0: none")
	fs.StringVar(&blockSize, "block-size", strconv.Itoa(hostpath.DefaultBlockSize), "block-map granularity for snapshot metadata (bytes, or with Ki/Mi)")
	fs.StringVar(&disable, "disable", "", "comma list of capabilities to switch off: snapshots, volume-from-snapshot, block, snapshot-metadata")
	fs.StringVar(&loop, "loop-devices", string(hostpath.LoopAuto), "raw block through loop devices: auto, off (bind the image file) or required")
	fs.Var(&faults, "fault", "RPC=CODE[:message]: make an RPC fail, e.g. CreateSnapshot=Unavailable (repeatable)")
	fs.Var(&hangs, "hang", "RPC: make an RPC block until its context ends (repeatable)")
	fs.Var(&secrets, "secret", "KEY=VALUE the Controller RPCs must carry in their secrets (repeatable)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&logFmt, "log-format", "json", "json or text")
	var reg kubeletreg.Config
	fs.StringVar(&reg.Socket, "registration-socket", "", "register with the kubelet through a socket at this path, "+
		"normally <kubelet-dir>/plugins_registry/<driver-name>-reg.sock (default: do not register)")
	fs.StringVar(&reg.Endpoint, "kubelet-registration-path", "", "the CSI socket as the kubelet sees it on the node "+
		"(default: the path of --endpoint)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	var err error
	if cfg.Capacity, err = parseBytes(capacity); err != nil {
		return options{}, fmt.Errorf("--capacity: %w", err)
	}
	if cfg.BlockSize, err = parseBytes(blockSize); err != nil {
		return options{}, fmt.Errorf("--block-size: %w", err)
	}
	if cfg.Disabled, err = hostpath.ParseFeatures(disable); err != nil {
		return options{}, fmt.Errorf("--disable: %w", err)
	}
	cfg.Loop = hostpath.LoopMode(loop)
	for _, f := range faults {
		fault, err := hostpath.ParseFault(f)
		if err != nil {
			return options{}, fmt.Errorf("--fault: %w", err)
		}
		cfg.Faults = append(cfg.Faults, fault)
	}
	cfg.Hangs = hangs
	if cfg.Secrets, err = parseSecrets(secrets); err != nil {
		return options{}, err
	}
	if cfg.Logger, err = newLogger(logLevel, logFmt); err != nil {
		return options{}, err
	}
	if reg.Socket != "" {
		reg.DriverName, reg.Logger = cfg.DriverName, cfg.Logger
		if reg.Endpoint == "" {
			if reg.Endpoint, err = hostpath.SocketPath(endpoint); err != nil {
				return options{}, fmt.Errorf("--endpoint: %w", err)
			}
		}
	}
	return options{cfg: cfg, endpoint: endpoint, registration: reg}, nil
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parseSecrets(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			// Name no value: the flag's argument may be the secret itself.
			return nil, errors.New("--secret: want KEY=VALUE")
		}
		m[k] = v
	}
	return m, nil
}

// parseBytes reads a byte count with an optional binary suffix.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for i, suf := range []string{"Ki", "Mi", "Gi", "Ti"} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), int64(1)<<(10*(i+1))
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a byte count", s)
	}
	return n * mult, nil
}

func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not json or text", format)
}
