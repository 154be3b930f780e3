package cli

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/clientcmd"
)

// Exit codes of the cluster CLI.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// UsageError is a mistake in how a command was called.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error of the command tree to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var u *UsageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitError
}

// notInstalledError says cairn's CRDs are missing.
type notInstalledError struct{ err error }

func (e *notInstalledError) Error() string {
	return "cairn is not installed in this cluster: the API server does not serve the cairn.dev/v1alpha1 resources; run `cairn install`"
}
func (e *notInstalledError) Unwrap() error { return e.err }

// explain rewrites errors the API machinery returns into ones that name the
// cluster or object and the fix. Errors already explained pass through.
func (e *env) explain(err error) error {
	if err == nil {
		return nil
	}
	var u *UsageError
	var ni *notInstalledError
	var ke *kubeconfigError
	var nf *notFoundError
	if errors.As(err, &u) || errors.As(err, &ni) || errors.As(err, &ke) || errors.As(err, &nf) {
		return err
	}
	switch {
	case clientcmd.IsEmptyConfig(err):
		return fmt.Errorf("no Kubernetes cluster is configured: set $KUBECONFIG or pass --kubeconfig FILE (as for kubectl)")
	case unreachable(err):
		return fmt.Errorf("cannot reach the Kubernetes API server %s: %w; check that the cluster is running and that --kubeconfig and --context point at it",
			e.serverDescription(), err)
	case meta.IsNoMatchError(err) || isCairnDiscoveryFailure(err):
		return &notInstalledError{err: err}
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server %s rejected the credentials of your kubeconfig: %w; log in again or pick another --context", e.serverDescription(), err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w; ask for the rights cairn's commands need in namespace %s (cairn install needs cluster-admin)", err, e.namespace)
	case namespaceMissing(err):
		return fmt.Errorf("namespace %s does not exist: install cairn there with `cairn install -n %s`, or pass -n with the namespace cairn runs in", e.namespace, e.namespace)
	}
	return err
}

// unreachable reports errors of the transport: no route, refused, timed
// out, or a TLS failure.
func unreachable(err error) bool {
	var ue *url.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &ue) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no such host") ||
		strings.Contains(s, "i/o timeout") || strings.Contains(s, "certificate")
}

// isCairnDiscoveryFailure reports a discovery error for cairn's group, the
// other way a missing CRD shows.
func isCairnDiscoveryFailure(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "cairn.dev/v1alpha1") && (strings.Contains(s, "the server could not find the requested resource") ||
		strings.Contains(s, "no matches for"))
}

func namespaceMissing(err error) bool {
	var st apierrors.APIStatus
	if !apierrors.IsNotFound(err) || !errors.As(err, &st) {
		return false
	}
	d := st.Status().Details
	return d != nil && d.Kind == "namespaces"
}
