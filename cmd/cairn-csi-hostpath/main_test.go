package main

import (
	"reflect"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/cairnbackup/cairn/csi/hostpath"
)

func TestParseFlags(t *testing.T) {
	opts, err := parseFlags([]string{
		"--endpoint", "unix:///tmp/x/csi.sock", "--root", "/r", "--node-id", "n7",
		"--capacity", "10Gi", "--block-size", "128Ki", "--disable", "block, snapshot-metadata",
		"--fault", "CreateSnapshot=Unavailable:array offline", "--fault", "DeleteVolume=internal",
		"--hang", "NodePublishVolume", "--secret", "user=admin", "--secret", "pass=a=b",
		"--loop-devices", "off", "--log-format", "text",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, endpoint := opts.cfg, opts.endpoint
	if opts.registration.Socket != "" {
		t.Fatalf("registration without --registration-socket: %+v", opts.registration)
	}
	if endpoint != "unix:///tmp/x/csi.sock" || cfg.Root != "/r" || cfg.NodeID != "n7" || cfg.DriverName != hostpath.DefaultDriverName {
		t.Fatalf("endpoint %q, cfg %+v", endpoint, cfg)
	}
	if cfg.Capacity != 10<<30 || cfg.BlockSize != 128<<10 || cfg.Loop != hostpath.LoopOff {
		t.Fatalf("capacity %d, block size %d, loop %q", cfg.Capacity, cfg.BlockSize, cfg.Loop)
	}
	if !reflect.DeepEqual(cfg.Disabled, []hostpath.Feature{hostpath.FeatureBlock, hostpath.FeatureSnapshotMetadata}) {
		t.Fatalf("disabled %v", cfg.Disabled)
	}
	wantFaults := []hostpath.Fault{
		{RPC: "CreateSnapshot", Code: codes.Unavailable, Message: "array offline"},
		{RPC: "DeleteVolume", Code: codes.Internal, Message: "injected fault: Internal"},
	}
	if !reflect.DeepEqual(cfg.Faults, wantFaults) || !reflect.DeepEqual(cfg.Hangs, []string{"NodePublishVolume"}) {
		t.Fatalf("faults %+v, hangs %v", cfg.Faults, cfg.Hangs)
	}
	if !reflect.DeepEqual(cfg.Secrets, map[string]string{"user": "admin", "pass": "a=b"}) {
		t.Fatalf("secrets %v", cfg.Secrets)
	}
}

func TestParseRegistrationFlags(t *testing.T) {
	for name, tc := range map[string]struct {
		args         []string
		wantEndpoint string
	}{
		"endpoint's path by default": {[]string{"--endpoint", "unix:///var/lib/kubelet/plugins/d/csi.sock"}, "/var/lib/kubelet/plugins/d/csi.sock"},
		"the kubelet's own path": {[]string{"--endpoint", "unix:///csi/csi.sock", "--kubelet-registration-path", "/var/lib/kubelet/plugins/d/csi.sock"},
			"/var/lib/kubelet/plugins/d/csi.sock"},
	} {
		t.Run(name, func(t *testing.T) {
			opts, err := parseFlags(append(tc.args, "--driver-name", "d", "--registration-socket", "/reg/d-reg.sock"))
			if err != nil {
				t.Fatal(err)
			}
			r := opts.registration
			if r.Socket != "/reg/d-reg.sock" || r.DriverName != "d" || r.Endpoint != tc.wantEndpoint {
				t.Fatalf("registration %+v", r)
			}
		})
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"bad capacity":   {"--capacity", "lots"},
		"bad feature":    {"--disable", "teleport"},
		"bad fault":      {"--fault", "CreateSnapshot"},
		"bad secret":     {"--secret", "novalue"},
		"bad log level":  {"--log-level", "chatty"},
		"bad log format": {"--log-format", "xml"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%s: %v parsed", name, args)
		}
	}
}
