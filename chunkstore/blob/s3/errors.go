package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

// opError carries a redacted message while still unwrapping to the sentinel
// and to the original cause for errors.Is and errors.As.
type opError struct {
	msg  string
	errs []error
}

func (e *opError) Error() string   { return e.msg }
func (e *opError) Unwrap() []error { return e.errs }

// translate is the one place where minio-go and network errors become blob
// sentinels. The message reads "s3 <op> <name>: <sentinel>: <cause>", with
// every credential replaced by a marker.
func (s *Store) translate(ctx context.Context, op, name string, err error) error {
	sentinel := classify(ctx, err)
	msg := fmt.Sprintf("s3 %s %s: ", op, name)
	errs := []error{err}
	if sentinel != nil && !errors.Is(err, sentinel) {
		msg += sentinel.Error() + ": "
		errs = []error{sentinel, err}
	}
	return &opError{msg: redact(msg+describe(err), s.secrets), errs: errs}
}

// describe adds the S3 error code and HTTP status to minio-go's message,
// which alone ("Access Denied.") rarely says enough.
func describe(err error) string {
	resp, ok := errors.AsType[minio.ErrorResponse](err)
	if !ok || resp.Code == "" {
		return err.Error()
	}
	return fmt.Sprintf("%s (%s, HTTP %d)", resp.Error(), resp.Code, resp.StatusCode)
}

func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, redacted)
	}
	return msg
}

func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		// The caller gave up; timeouts below are our own transport's.
		return nil
	}
	for _, s := range []error{blob.ErrNotFound, blob.ErrLocationMissing, blob.ErrPermission,
		blob.ErrNoSpace, blob.ErrTransient, blob.ErrUnavailable, blob.ErrRange} {
		if errors.Is(err, s) {
			return s
		}
	}
	if resp, ok := errors.AsType[minio.ErrorResponse](err); ok && resp.Code != "" {
		if s := classifyResponse(resp); s != nil {
			return s
		}
	}
	return classifyNet(err)
}

func classifyResponse(resp minio.ErrorResponse) error {
	switch resp.Code {
	case minio.NoSuchKey, "NotFound":
		return blob.ErrNotFound
	case minio.NoSuchBucket:
		return blob.ErrLocationMissing
	case minio.AccessDenied, minio.InvalidAccessKeyID, minio.SignatureDoesNotMatch,
		minio.AllAccessDisabled, "AccountProblem", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
		// versitygw's answer to an unknown access key, sent with HTTP 404.
		"XAdminUserNotFound":
		return blob.ErrPermission
	case minio.EntityTooLarge, "QuotaExceeded", "XMinioStorageFull", "StorageFull":
		return blob.ErrNoSpace
	case minio.InvalidRange:
		return blob.ErrRange
	case "NotImplemented":
		// Sent with HTTP 501 for a request the server will never take;
		// sending it again cannot help.
		return nil
	case "SlowDown", "RequestTimeout", minio.InternalError, "ServiceUnavailable", "OperationAborted",
		"RequestLimitExceeded", "TooManyRequests", "XMinioServerNotInitialized",
		// The body was damaged or cut in transit; sending it again fixes it.
		minio.BadDigest, minio.IncompleteBody, minio.XAmzContentSHA256Mismatch:
		return blob.ErrTransient
	}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests:
		return blob.ErrTransient
	case resp.StatusCode == http.StatusForbidden:
		return blob.ErrPermission
	}
	return nil
}

func classifyNet(err error) error {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTDOWN),
		errors.As(err, &dnsErr):
		return blob.ErrUnavailable
	case errors.As(err, &opErr) && opErr.Op == "dial":
		// A dial that timed out never reached the server: as unreachable as
		// a refused one, so it gets the short retry budget.
		return blob.ErrUnavailable
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF):
		return blob.ErrTransient
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return blob.ErrTransient
	case strings.Contains(err.Error(), "Connection closed by foreign host"):
		// minio-go replaces an EOF before the answer (the server, or a
		// proxy, dropped the connection) with this bare message, so the
		// io.EOF above no longer matches; it is as retryable.
		return blob.ErrTransient
	}
	return nil
}
