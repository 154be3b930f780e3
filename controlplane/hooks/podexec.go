package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/streaming/pkg/httpstream"
)

// PodExecutor runs commands through the API server's pods/exec
// subresource: over WebSocket, falling back to SPDY for API servers that
// do not upgrade to WebSocket, as kubectl does.
type PodExecutor struct {
	config *rest.Config
	rest   rest.Interface
}

var _ Executor = (*PodExecutor)(nil)

// NewPodExecutor returns an executor that talks to the API server of cfg.
func NewPodExecutor(cfg *rest.Config) (*PodExecutor, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("pod exec: client for %s: %w", cfg.Host, err)
	}
	return &PodExecutor{config: cfg, rest: cs.CoreV1().RESTClient()}, nil
}

// ExitError is a command that ran and exited non-zero.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exited with status %d", e.Code) }

// Exec runs cmd in the container and returns the head of its output (at
// most keptOutputBytes of each stream; the rest is read and dropped, so a
// chatty command cannot grow the controller's memory). Errors never quote
// the command, which may carry credentials.
func (e *PodExecutor) Exec(ctx context.Context, pod ObjectRef, container string, cmd []string) (string, string, error) {
	u := e.rest.Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).
		SubResource("exec").VersionedParams(&corev1.PodExecOptions{
		Container: container, Command: cmd, Stdout: true, Stderr: true,
	}, scheme.ParameterCodec).URL()
	ex, err := e.streamExecutor(u)
	if err != nil {
		return "", "", scrub(err, u)
	}
	var stdout, stderr headWriter
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	return stdout.String(), stderr.String(), scrub(err, u)
}

func (e *PodExecutor) streamExecutor(u *url.URL) (remotecommand.Executor, error) {
	spdy, err := remotecommand.NewSPDYExecutor(e.config, "POST", u)
	if err != nil {
		return nil, err
	}
	// WebSocket needs GET (RFC 6455 section 4.1).
	ws, err := remotecommand.NewWebSocketExecutor(e.config, "GET", u.String())
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// scrub turns an exit status into an ExitError and removes the exec URL's
// query, which spells out the command, from any other error.
func scrub(err error, u *url.URL) error {
	if err == nil {
		return nil
	}
	var exit interface{ ExitStatus() int }
	if errors.As(err, &exit) {
		return &ExitError{Code: exit.ExitStatus()}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	for _, q := range []string{u.RawQuery, u.Query().Encode()} {
		if q != "" {
			msg = strings.ReplaceAll(msg, q, "…")
		}
	}
	return &scrubbedError{msg: msg, cause: err}
}

// scrubbedError keeps the cause for errors.Is and errors.As (an API
// status, a context error) but prints the scrubbed message.
type scrubbedError struct {
	msg   string
	cause error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.cause }

// headWriter keeps the first bytes written to it, one more than the
// Runner keeps, so that clip marks the cut.
type headWriter struct{ buf []byte }

func (w *headWriter) Write(p []byte) (int, error) {
	room := min(keptOutputBytes+1-len(w.buf), len(p))
	w.buf = append(w.buf, p[:room]...)
	return len(p), nil
}

func (w *headWriter) String() string { return string(w.buf) }
