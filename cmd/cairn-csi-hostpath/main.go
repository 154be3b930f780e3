// Command cairn-csi-hostpath runs cairn's reference CSI driver
// (csi/hostpath): volumes as directories and image files under --root,
// all four CSI services on one unix socket.
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

	"github.com/cairnbackup/cairn/csi/hostpath"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cairn-csi-hostpath:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg, endpoint, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	d, err := hostpath.New(cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg.Logger.Info("serving", "endpoint", endpoint, "root", d.Root(), "loopDevices", d.UsesLoopDevices(),
		"disabled", cfg.Disabled, "secretKeys", len(cfg.Secrets))
	return d.ListenAndServe(ctx, endpoint)
}

func parseFlags(args []string) (hostpath.Config, string, error) {
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
	if err := fs.Parse(args); err != nil {
		return cfg, "", err
	}
	var err error
	if cfg.Capacity, err = parseBytes(capacity); err != nil {
		return cfg, "", fmt.Errorf("--capacity: %w", err)
	}
	if cfg.BlockSize, err = parseBytes(blockSize); err != nil {
		return cfg, "", fmt.Errorf("--block-size: %w", err)
	}
	if cfg.Disabled, err = hostpath.ParseFeatures(disable); err != nil {
		return cfg, "", fmt.Errorf("--disable: %w", err)
	}
	cfg.Loop = hostpath.LoopMode(loop)
	for _, f := range faults {
		fault, err := hostpath.ParseFault(f)
		if err != nil {
			return cfg, "", fmt.Errorf("--fault: %w", err)
		}
		cfg.Faults = append(cfg.Faults, fault)
	}
	cfg.Hangs = hangs
	if cfg.Secrets, err = parseSecrets(secrets); err != nil {
		return cfg, "", err
	}
	if cfg.Logger, err = newLogger(logLevel, logFmt); err != nil {
		return cfg, "", err
	}
	return cfg, endpoint, nil
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
