package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		insecure bool
		want     endpoint
		wantErr  bool
	}{
		{"aws default", "", false, endpoint{"s3.amazonaws.com", true}, false},
		{"bare host tls", "minio.local:9000", false, endpoint{"minio.local:9000", true}, false},
		{"bare host insecure", "127.0.0.1:7070", true, endpoint{"127.0.0.1:7070", false}, false},
		{"http url", "http://127.0.0.1:7070", false, endpoint{"127.0.0.1:7070", false}, false},
		{"https url", "https://s3.example.com", false, endpoint{"s3.example.com", true}, false},
		{"trailing slash", "https://s3.example.com/", false, endpoint{"s3.example.com", true}, false},
		{"https with insecure", "https://s3.example.com", true, endpoint{}, true},
		{"insecure aws", "", true, endpoint{}, true},
		{"ftp", "ftp://s3.example.com", false, endpoint{}, true},
		{"path", "https://s3.example.com/bucket", false, endpoint{}, true},
		{"credentials", "https://AKIA:secret@s3.example.com", false, endpoint{}, true},
		{"bare host with path", "s3.example.com/bucket", false, endpoint{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEndpoint(Config{Endpoint: tc.endpoint, Insecure: tc.insecure})
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseEndpoint(%q) = %+v, %v; want %+v, err=%v", tc.endpoint, got, err, tc.want, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "ENVKEY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET")
	t.Setenv("AWS_SESSION_TOKEN", "ENVTOKEN")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "eu-west-1")
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{"all from env", Config{}, Config{AccessKeyID: "ENVKEY", SecretAccessKey: "ENVSECRET", SessionToken: "ENVTOKEN", Region: "eu-west-1"}},
		{"config wins", Config{AccessKeyID: "K", SecretAccessKey: "S", Region: "r"}, Config{AccessKeyID: "K", SecretAccessKey: "S", Region: "r"}},
		{"no mixing", Config{AccessKeyID: "K"}, Config{AccessKeyID: "K", Region: "eu-west-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ConfigFromEnv(tc.in)
			if got.AccessKeyID != tc.want.AccessKeyID || got.SecretAccessKey != tc.want.SecretAccessKey ||
				got.SessionToken != tc.want.SessionToken || got.Region != tc.want.Region {
				t.Fatalf("ConfigFromEnv = %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Setenv("AWS_REGION", "us-west-2")
	if got := ConfigFromEnv(Config{}).Region; got != "us-west-2" {
		t.Errorf("AWS_REGION should win over AWS_DEFAULT_REGION, got %q", got)
	}
}

func TestClassify(t *testing.T) {
	resp := func(code string, status int) error { return minio.ErrorResponse{Code: code, StatusCode: status} }
	opErr := func(op string, err error) error { return &net.OpError{Op: op, Net: "tcp", Err: err} }
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"no such key", resp("NoSuchKey", 404), blob.ErrNotFound},
		{"no such bucket", resp("NoSuchBucket", 404), blob.ErrLocationMissing},
		{"access denied", resp("AccessDenied", 403), blob.ErrPermission},
		{"bad key id", resp("InvalidAccessKeyId", 403), blob.ErrPermission},
		{"bad signature", resp("SignatureDoesNotMatch", 403), blob.ErrPermission},
		{"unknown 403", resp("403 Forbidden", 403), blob.ErrPermission},
		{"slow down", resp("SlowDown", 503), blob.ErrTransient},
		{"request timeout", resp("RequestTimeout", 400), blob.ErrTransient},
		{"internal", resp("InternalError", 500), blob.ErrTransient},
		{"bare 502", resp("502 Bad Gateway", 502), blob.ErrTransient},
		{"too large", resp("EntityTooLarge", 400), blob.ErrNoSpace},
		{"quota", resp("QuotaExceeded", 403), blob.ErrNoSpace},
		{"range", resp("InvalidRange", 416), blob.ErrRange},
		{"bad request", resp("InvalidArgument", 400), nil},
		{"not implemented", resp("NotImplemented", 501), nil},
		{"refused", &url.Error{Op: "Get", URL: "http://x", Err: opErr("dial", os.NewSyscallError("connect", syscall.ECONNREFUSED))}, blob.ErrUnavailable},
		{"no route", opErr("dial", syscall.EHOSTUNREACH), blob.ErrUnavailable},
		{"dns", &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}, blob.ErrUnavailable},
		{"dial timeout", opErr("dial", timeoutErr{}), blob.ErrUnavailable},
		{"reset", opErr("read", os.NewSyscallError("read", syscall.ECONNRESET)), blob.ErrTransient},
		{"cut short", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), blob.ErrTransient},
		// minio-go's stand-in for an EOF before the answer (a reset).
		{"closed before the answer", &url.Error{Op: "Put", URL: "http://x/b/k",
			Err: errors.New("Connection closed by foreign host http://x/b/k. Retry again.")}, blob.ErrTransient},
		{"read timeout", opErr("read", timeoutErr{}), blob.ErrTransient},
		{"other", errors.New("x509: certificate signed by unknown authority"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(context.Background(), tc.err); got != tc.want {
				t.Fatalf("classify(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := classify(ctx, opErr("dial", syscall.ECONNREFUSED)); got != nil {
		t.Errorf("with the caller's context done, classify = %v, want nil", got)
	}
}

func TestTranslateRedacts(t *testing.T) {
	s := &Store{secrets: []string{"AKIDSECRETID", "VERYSECRETKEY"}}
	err := s.translate(context.Background(), "get", "obj",
		minio.ErrorResponse{Code: "InvalidAccessKeyId", Message: "key AKIDSECRETID / VERYSECRETKEY unknown", StatusCode: 403})
	if strings.Contains(err.Error(), "AKIDSECRETID") || strings.Contains(err.Error(), "VERYSECRETKEY") {
		t.Fatalf("credential in %q", err)
	}
	if !errors.Is(err, blob.ErrPermission) {
		t.Errorf("%v does not wrap ErrPermission", err)
	}
	if _, ok := errors.AsType[minio.ErrorResponse](err); !ok {
		t.Errorf("%v does not wrap the minio error", err)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
