package repocli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

// TestS3 runs a round trip against a real S3 server over TLS with a private
// CA, so the --s3-* flags and the AWS environment credentials are exercised
// end to end.
func TestS3(t *testing.T) {
	skipShort(t, "starts versitygw")
	srv := s3test.StartTLS(t)
	h := newHarness(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	h.repo = "s3://cli-test/team/repo" // the bucket does not exist yet: init creates it
	s3flags := []string{"--s3-endpoint", srv.Endpoint, "--s3-region", s3test.Region, "--s3-ca-cert", srv.CACertFile}
	with := func(args ...string) []string { return append(args, s3flags...) }

	src := filepath.Join(h.dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 9, SmallFiles: 12, LargeSize: 512 << 10})
	h.ok(with("init")...)
	h.ok(with("backup", src)...)
	out := filepath.Join(h.dir, "out")
	h.ok(with("restore", "latest", "--target", out)...)
	testtree.Compare(t, src, filepath.Join(out, "src"))
	if r := h.ok(with("check", "--read-data")...); !strings.Contains(r.stdout, "no problems") {
		t.Fatalf("check --read-data printed %q", r.stdout)
	}

	// Without the CA the server's certificate is not trusted.
	r := h.run("snapshots", "--s3-endpoint", srv.Endpoint, "--s3-region", s3test.Region)
	if r.code != 1 || !strings.Contains(r.stderr, "--s3-ca-cert") || strings.Contains(r.stderr, srv.SecretKey) || strings.Contains(r.stderr, srv.AccessKey) {
		t.Fatalf("snapshots without the CA: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Logf("without the CA: %s", strings.TrimSpace(r.stderr))

	// Missing or wrong credentials: the message says where they come from,
	// and never what they are.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	r = h.run(with("snapshots")...)
	if r.code != 1 || !strings.Contains(r.stderr, "no S3 credentials were given: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("snapshots without credentials: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
	r = h.run(with("snapshots")...)
	if r.code != 1 || !strings.Contains(r.stderr, "check the S3 credentials in AWS_ACCESS_KEY_ID") ||
		strings.Contains(r.stderr, "not-the-secret") || strings.Contains(r.stderr, srv.SecretKey) {
		t.Fatalf("snapshots with a wrong secret: exit %d, stderr %q", r.code, r.stderr)
	}
}

// skipShort skips a slow test under -short (make test-short), but never in
// CI (CI=true), where every test must run.
func skipShort(t *testing.T, why string) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip(why)
	}
}
