package kubeletreg

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

// TestKubeletHandshake plays the kubelet's side: GetInfo, then a status
// notification; the socket is gone once Serve returns.
func TestKubeletHandshake(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "plugins_registry", "d.example-reg.sock")
	r, err := New(Config{DriverName: "d.example", Endpoint: "unix:///var/lib/kubelet/plugins/d.example/csi.sock", Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("registration socket still there after Serve returned: %v", err)
		}
	}()
	waitFor(t, func() bool { _, err := os.Stat(sock); return err == nil })

	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := registerapi.NewRegistrationClient(conn)
	info, err := c.GetInfo(ctx, &registerapi.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != registerapi.CSIPlugin || info.Name != "d.example" ||
		info.Endpoint != "/var/lib/kubelet/plugins/d.example/csi.sock" || len(info.SupportedVersions) == 0 {
		t.Fatalf("GetInfo = %+v", info)
	}
	st, changed := r.Status()
	if st.Notified {
		t.Fatalf("status before any notification: %+v", st)
	}
	if _, err := c.NotifyRegistrationStatus(ctx, &registerapi.RegistrationStatus{PluginRegistered: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no status change signalled")
	}
	if st, _ := r.Status(); !st.Notified || !st.Registered {
		t.Fatalf("status after notification: %+v", st)
	}
}

func TestConfigChecks(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no name":           {Endpoint: "/e", Socket: "/s"},
		"relative endpoint": {DriverName: "d", Endpoint: "plugins/d/csi.sock", Socket: "/s"},
		"no socket":         {DriverName: "d", Endpoint: "/e"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("timed out")
}
