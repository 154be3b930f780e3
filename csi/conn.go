package csi

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Config says how to reach one driver endpoint and how patient to be.
type Config struct {
	// Endpoint is unix:///path/to/csi.sock (a bare absolute path is taken
	// as a unix socket too).
	Endpoint string
	// Driver names the driver in errors and logs before PluginInfo is known.
	Driver string
	// Timeout bounds each attempt of an RPC; default DefaultTimeout.
	Timeout time.Duration
	// Timeouts overrides Timeout per RPC name (such as "CreateSnapshot").
	Timeouts map[string]time.Duration
	// Attempts is how many times a retryable failure is tried in all;
	// default DefaultAttempts.
	Attempts int
	// Backoff is the first retry's ceiling, doubling up to MaxBackoff;
	// defaults 200ms and 5s.
	Backoff, MaxBackoff time.Duration
	// Logger receives one debug line per RPC and a warning per retry;
	// default slog.Default().
	Logger *slog.Logger
}

// DefaultTimeout bounds an attempt. Drivers are expected to answer
// controller calls quickly (a cloud snapshot is cut in seconds and becomes
// ready in the background), so a minute means the driver is stuck.
const DefaultTimeout = time.Minute

// DefaultAttempts is one try plus four retries: with the backoff below that
// rides out a driver restart of about ten seconds.
const DefaultAttempts = 5

// Conn is a connection to one driver endpoint. It is safe for concurrent
// use; Close ends it.
type Conn struct {
	cfg  Config
	cc   *grpc.ClientConn
	id   csi.IdentityClient
	ctl  csi.ControllerClient
	node csi.NodeClient
	meta csi.SnapshotMetadataClient
	log  *slog.Logger
}

// Dial connects to cfg.Endpoint. The connection is made lazily by gRPC, so
// Dial fails only on a malformed endpoint; the first RPC (usually Probe)
// reports an unreachable driver.
func Dial(cfg Config) (*Conn, error) {
	target, err := target(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	cfg = withDefaults(cfg)
	cc, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connect to CSI driver %s at %s: %w", cfg.Driver, cfg.Endpoint, err)
	}
	return &Conn{cfg: cfg, cc: cc, id: csi.NewIdentityClient(cc), ctl: csi.NewControllerClient(cc),
		node: csi.NewNodeClient(cc), meta: csi.NewSnapshotMetadataClient(cc), log: cfg.Logger}, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Driver == "" {
		cfg.Driver = cfg.Endpoint
	}
	return cfg
}

// target turns an endpoint into a gRPC target.
func target(endpoint string) (string, error) {
	switch {
	case strings.HasPrefix(endpoint, "unix:///"):
		return endpoint, nil
	case strings.HasPrefix(endpoint, "/"):
		return "unix://" + endpoint, nil
	}
	return "", fmt.Errorf("CSI endpoint %q: want unix:///path/to/csi.sock", endpoint)
}

// Endpoint is where the connection goes.
func (c *Conn) Endpoint() string { return c.cfg.Endpoint }

// Driver is the driver's name as configured.
func (c *Conn) Driver() string { return c.cfg.Driver }

// Close ends the connection.
func (c *Conn) Close() error { return c.cc.Close() }

func (c *Conn) timeout(rpc string) time.Duration {
	if d, ok := c.cfg.Timeouts[rpc]; ok && d > 0 {
		return d
	}
	return c.cfg.Timeout
}

// retryable reports whether the CSI spec allows trying the call again.
func retryable(code codes.Code) bool {
	return code == codes.Unavailable || code == codes.DeadlineExceeded || code == codes.Aborted
}

// invoke runs one unary RPC with its timeout and retries. secrets are the
// request's, scrubbed from any error text.
func invoke[Req, Resp any](ctx context.Context, c *Conn, rpc string, req Req, secrets map[string]string,
	fn func(context.Context, Req, ...grpc.CallOption) (Resp, error)) (Resp, error) {
	var zero Resp
	for attempt := 1; ; attempt++ {
		start := time.Now()
		actx, cancel := context.WithTimeout(ctx, c.timeout(rpc))
		resp, err := fn(actx, req)
		cancel()
		c.logCall(rpc, req, attempt, time.Since(start), err, secrets)
		if err == nil {
			return resp, nil
		}
		code := status.Code(err)
		if ctx.Err() != nil || !retryable(code) || attempt >= c.cfg.Attempts {
			return zero, c.rpcError(rpc, err, attempt, secrets)
		}
		if werr := c.sleep(ctx, attempt); werr != nil {
			return zero, c.rpcError(rpc, err, attempt, secrets)
		}
	}
}

// sleep waits a full-jitter backoff before the next attempt.
func (c *Conn) sleep(ctx context.Context, attempt int) error {
	ceiling := c.cfg.Backoff << min(attempt-1, 16)
	ceiling = min(ceiling, c.cfg.MaxBackoff)
	t := time.NewTimer(time.Duration(rand.Int64N(int64(ceiling)) + 1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Conn) logCall(rpc string, req any, attempt int, took time.Duration, err error, secrets map[string]string) {
	if err == nil {
		c.log.Debug("csi call", "driver", c.cfg.Driver, "rpc", rpc, "attempt", attempt, "took", took, "request", Sanitize(req))
		return
	}
	c.log.Warn("csi call failed", "driver", c.cfg.Driver, "rpc", rpc, "attempt", attempt, "took", took,
		"code", status.Code(err).String(), "message", Scrub(status.Convert(err).Message(), secrets), "request", Sanitize(req))
}
