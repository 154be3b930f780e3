package kubeletreg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"google.golang.org/grpc"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

// Config says what to register and where.
type Config struct {
	// DriverName is the CSI driver's name, as GetPluginInfo reports it.
	DriverName string
	// Endpoint is the driver's CSI socket as the kubelet sees it, a path
	// such as /var/lib/kubelet/plugins/NAME/csi.sock (unix:// is removed).
	Endpoint string
	// Socket is where the registration socket is created, normally
	// <kubelet-dir>/plugins_registry/NAME-reg.sock as seen by this process.
	Socket string
	// Logger gets the kubelet's registration status; default slog.Default().
	Logger *slog.Logger
}

// Status is what the kubelet last reported through
// NotifyRegistrationStatus.
type Status struct {
	// Notified is false until the kubelet has answered at all.
	Notified   bool
	Registered bool
	Error      string
}

// Registrar serves the registration API on Config.Socket.
type Registrar struct {
	registerapi.UnimplementedRegistrationServer
	cfg Config

	mu     sync.Mutex
	status Status
	change chan struct{} // closed and replaced on each notification
}

// New checks cfg and returns a Registrar; Serve starts it.
func New(cfg Config) (*Registrar, error) {
	if cfg.DriverName == "" || cfg.Endpoint == "" || cfg.Socket == "" {
		return nil, errors.New("kubelet registration: the driver name, its endpoint and the registration socket are all required")
	}
	cfg.Endpoint = strings.TrimPrefix(cfg.Endpoint, "unix://")
	if !filepath.IsAbs(cfg.Endpoint) {
		return nil, fmt.Errorf("kubelet registration: endpoint %q is not an absolute path on the node", cfg.Endpoint)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Registrar{cfg: cfg, change: make(chan struct{})}, nil
}

// Serve listens on the registration socket until ctx ends, then removes
// the socket, which tells the kubelet the driver is gone.
func (r *Registrar) Serve(ctx context.Context) error {
	sock := r.cfg.Socket
	if err := os.MkdirAll(filepath.Dir(sock), 0o750); err != nil {
		return fmt.Errorf("kubelet registration: create directory of %s: %w", sock, err)
	}
	// A socket left by a killed predecessor would make Listen fail.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("kubelet registration: remove stale socket %s: %w", sock, err)
	}
	lis, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("kubelet registration: listen on %s: %w", sock, err)
	}
	srv := grpc.NewServer()
	registerapi.RegisterRegistrationServer(srv, r)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	r.cfg.Logger.Info("kubelet registration socket up", "socket", sock, "endpoint", r.cfg.Endpoint)
	select {
	case <-ctx.Done():
		srv.GracefulStop()
		<-done
		err = nil
	case err = <-done:
	}
	if rmErr := os.Remove(sock); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) && err == nil {
		err = fmt.Errorf("kubelet registration: remove socket %s: %w", sock, rmErr)
	}
	if err != nil {
		return fmt.Errorf("kubelet registration: serve %s: %w", sock, err)
	}
	return nil
}

// GetInfo tells the kubelet what this socket registers.
func (r *Registrar) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	return &registerapi.PluginInfo{
		Type:     registerapi.CSIPlugin,
		Name:     r.cfg.DriverName,
		Endpoint: r.cfg.Endpoint,
		// The kubelet speaks CSI 1.x to every driver it accepts.
		SupportedVersions: []string{"1.0.0"},
	}, nil
}

// NotifyRegistrationStatus records the kubelet's verdict.
func (r *Registrar) NotifyRegistrationStatus(_ context.Context, s *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	r.mu.Lock()
	r.status = Status{Notified: true, Registered: s.GetPluginRegistered(), Error: s.GetError()}
	close(r.change)
	r.change = make(chan struct{})
	r.mu.Unlock()
	if s.GetPluginRegistered() {
		r.cfg.Logger.Info("registered with the kubelet", "driver", r.cfg.DriverName)
	} else {
		r.cfg.Logger.Error("the kubelet refused the registration", "driver", r.cfg.DriverName, "error", s.GetError())
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}

// Status returns the last status and a channel closed at the next change.
func (r *Registrar) Status() (Status, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.change
}
