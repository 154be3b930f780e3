package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// AuthMode says how requests are authenticated.
type AuthMode string

const (
	// AuthNone serves everyone who reaches the port: the default, for a
	// port bound to localhost and reached through kubectl port-forward,
	// which the API server already authenticated and authorized.
	AuthNone AuthMode = "none"
	// AuthToken requires a bearer token that the API server authenticates
	// (TokenReview) and authorizes (SubjectAccessReview).
	AuthToken AuthMode = "token"
)

// Defaults, each with its reason.
const (
	// DefaultStatsInterval: repository figures change with each backup and
	// prune, a few times a day; a LIST of packs and snapshots every ten
	// minutes costs little even on S3.
	DefaultStatsInterval = 10 * time.Minute
	// DefaultLiveInterval: agents report progress about every 5s, so a
	// re-render every 2s shows each report promptly and keeps ages fresh.
	DefaultLiveInterval = 2 * time.Second
	// shutdownTimeout bounds the wait for in-flight requests at shutdown;
	// live streams end at once with the server's context.
	shutdownTimeout = 5 * time.Second
)

// Clock tells the time; tests inject a fixed one.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Config holds the dashboard's settings.
type Config struct {
	// BindAddress is host:port to listen on. A bare port ("8090" or
	// ":8090") listens on 127.0.0.1; to listen on every interface say so
	// ("0.0.0.0:8090"). Use ListenAddress to resolve it.
	BindAddress string
	// Auth defaults to AuthNone.
	Auth AuthMode
	// Namespace limits the dashboard to one namespace's cairn objects and
	// is where the token check asks for "get backups.cairn.dev"; empty
	// means every namespace (and a cluster-wide check).
	Namespace string
	// StatsInterval defaults to DefaultStatsInterval.
	StatsInterval time.Duration
	// LiveInterval defaults to DefaultLiveInterval.
	LiveInterval time.Duration
	// Clock defaults to the system clock.
	Clock Clock
}

// Opener opens a location's repository; *locations.Opener is one (and the
// controllers' one should be passed, so repositories are opened once).
type Opener interface {
	Open(ctx context.Context, loc *v1alpha1.BackupLocation) (*repo.Repository, error)
}

// Reviewer creates TokenReviews and SubjectAccessReviews; a
// controller-runtime client is one.
type Reviewer interface {
	Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error
}

// Deps are the dashboard's collaborators.
type Deps struct {
	// Cache is the manager's informer cache (mgr.GetCache()).
	Cache cache.Cache
	// Opener reads repository figures, logs and item lists.
	Opener Opener
	// Reviewer is needed with AuthToken only.
	Reviewer Reviewer
	Log      logr.Logger
}

// Server serves the dashboard. It is a manager Runnable.
type Server struct {
	cfg     Config
	deps    Deps
	ln      net.Listener
	pages   *renderer
	changes *notifier
	figures *figureCache
	details *detailCache
	auth    *authenticator
}

// ListenAddress resolves a --dashboard-bind-address: "" stays "" (off), a
// bare port binds to localhost.
func ListenAddress(addr string) string {
	switch {
	case addr == "":
		return ""
	case !strings.Contains(addr, ":"):
		return "127.0.0.1:" + addr
	case strings.HasPrefix(addr, ":"):
		return "127.0.0.1" + addr
	}
	return addr
}

// New checks the configuration and listens, so a port in use fails the
// controller at start rather than later in the background.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = withDefaults(cfg)
	if deps.Cache == nil || deps.Opener == nil {
		return nil, errors.New("dashboard: Cache and Opener are required")
	}
	if cfg.Auth != AuthNone && cfg.Auth != AuthToken {
		return nil, fmt.Errorf("dashboard: unknown auth mode %q; use %q or %q", cfg.Auth, AuthNone, AuthToken)
	}
	if cfg.Auth == AuthToken && deps.Reviewer == nil {
		return nil, errors.New("dashboard: the token check needs a Reviewer")
	}
	pages, err := newRenderer()
	if err != nil {
		return nil, err
	}
	addr := ListenAddress(cfg.BindAddress)
	if addr == "" {
		return nil, errors.New("dashboard: no bind address")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard: listen on %s: %w", addr, err)
	}
	s := &Server{cfg: cfg, deps: deps, ln: ln, pages: pages, changes: newNotifier()}
	s.figures = newFigureCache(figureDeps{reader: deps.Cache, opener: deps.Opener, clock: cfg.Clock,
		namespace: cfg.Namespace, interval: cfg.StatsInterval, notify: s.changes.bump, log: deps.Log})
	s.details = newDetailCache(deps.Opener, cfg.Clock, s.changes.bump)
	if cfg.Auth == AuthToken {
		s.auth = newAuthenticator(deps.Reviewer, cfg.Namespace, cfg.Clock, pages)
	}
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Auth == "" {
		cfg.Auth = AuthNone
	}
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = DefaultStatsInterval
	}
	if cfg.LiveInterval <= 0 {
		cfg.LiveInterval = DefaultLiveInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	return cfg
}

// Addr is the address the dashboard listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// NeedLeaderElection is false: every replica serves from its own cache.
func (s *Server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends, with the background refreshers, and waits
// for all of them.
func (s *Server) Start(ctx context.Context) error {
	defer s.ln.Close()
	stop, err := s.watch(ctx)
	if err != nil {
		return err
	}
	defer stop()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { s.figures.run(gctx); return nil })
	g.Go(func() error { s.details.run(gctx); return nil })
	g.Go(func() error { return s.serve(gctx) })
	return g.Wait()
}

// serve runs the HTTP server until ctx ends. Request contexts derive from
// ctx, so live streams end with it and Shutdown does not wait for them.
func (s *Server) serve(ctx context.Context) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(s.ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("dashboard: serve on %s: %w", s.ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("dashboard: shut down: %w", err)
	}
	return nil
}
