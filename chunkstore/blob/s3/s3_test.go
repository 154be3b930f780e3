package s3_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/blobtest"
	"github.com/cairnbackup/cairn/chunkstore/blob/retry"
	"github.com/cairnbackup/cairn/chunkstore/blob/s3"
	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
)

func open(t *testing.T, cfg s3.Config) *s3.Store {
	t.Helper()
	s, err := s3.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	for _, prefix := range []string{"repo/one", ""} {
		t.Run(fmt.Sprintf("prefix=%q", prefix), func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) blob.Store {
				return open(t, srv.Config(srv.NewBucket(t), prefix))
			})
		})
	}
}

func TestMultipartRoundTrip(t *testing.T) {
	srv := s3test.Start(t)
	s := open(t, srv.Config(srv.NewBucket(t), "p"))
	// Past minio-go's 16 MiB single-PUT limit, so this goes multipart.
	data := make([]byte, 17<<20+3)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	if err := s.Put(t.Context(), "big", data); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), "big", 0, -1)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get = %d bytes, %v; want the %d bytes put", len(got), err, len(data))
	}
	off := int64(16<<20 - 10) // straddles the part boundary
	got, err = s.Get(t.Context(), "big", off, 20)
	if err != nil || !bytes.Equal(got, data[off:off+20]) {
		t.Fatalf("ranged Get across parts = %v, %v", got, err)
	}
}

func TestPrefixesDoNotOverlap(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	a := open(t, srv.Config(bucket, "a"))
	ab := open(t, srv.Config(bucket, "/ab/"))
	if err := a.Put(t.Context(), "x", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := ab.Put(t.Context(), "x", []byte("ab")); err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := a.List(t.Context(), "", func(i blob.Info) error { names = append(names, i.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"x"}) {
		t.Errorf("List under prefix a = %q, want [x]", names)
	}
	if got, err := ab.Get(t.Context(), "x", 0, -1); err != nil || string(got) != "ab" {
		t.Errorf("Get under prefix ab = %q, %v", got, err)
	}
}

func TestOpenErrors(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	closed := closedPort(t)
	tests := []struct {
		name     string
		cfg      func() s3.Config
		want     error
		contains []string
	}{
		{"missing bucket", func() s3.Config { return srv.Config("no-such-bucket", "") },
			blob.ErrLocationMissing, []string{"no-such-bucket", "create it or fix the bucket name"}},
		{"wrong secret", func() s3.Config {
			c := srv.Config(bucket, "")
			c.SecretAccessKey = "WRONG-SECRET-0123456789"
			return c
		}, blob.ErrPermission, nil},
		{"unknown access key", func() s3.Config {
			c := srv.Config(bucket, "")
			c.AccessKeyID = "UNKNOWNKEY0123456789"
			return c
		}, blob.ErrPermission, nil},
		{"nothing listening", func() s3.Config {
			c := srv.Config(bucket, "")
			c.Endpoint = "http://" + closed
			return c
		}, blob.ErrUnavailable, []string{closed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg()
			_, err := s3.Open(t.Context(), cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
			t.Logf("error: %v", err)
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			assertNoSecrets(t, err.Error(), cfg)
		})
	}
}

func TestCreateBucket(t *testing.T) {
	srv := s3test.Start(t)
	cfg := srv.Config("made-by-init", "repo")
	cfg.Create = true
	s := open(t, cfg)
	if err := s.Put(t.Context(), "config", []byte("x")); err != nil {
		t.Fatalf("Put into the created bucket: %v", err)
	}
	// Opening again with Create must accept the existing bucket.
	open(t, cfg)
}

func TestServerGoneFailsFastThroughRetry(t *testing.T) {
	srv := s3test.Start(t)
	cfg := srv.Config(srv.NewBucket(t), "p")
	s := retry.Wrap(open(t, cfg), retry.Policy{})
	if err := s.Put(t.Context(), "obj", []byte("x")); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	start := time.Now()
	_, err := s.Get(t.Context(), "obj", 0, -1)
	if !errors.Is(err, blob.ErrUnavailable) || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("Get = %v, want ErrUnavailable after 3 attempts", err)
	}
	t.Logf("error after %v: %v", time.Since(start), err)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("giving up took %v, want a few seconds", d)
	}
	assertNoSecrets(t, err.Error(), cfg)
}

func TestSecretsStayOut(t *testing.T) {
	srv := s3test.Start(t)
	cfg := srv.Config(srv.NewBucket(t), "p")
	cfg.SessionToken = "SESSION-TOKEN-abcdef"
	s, err := s3.Open(t.Context(), cfg)
	if err == nil {
		assertNoSecrets(t, s.Location(), cfg)
	}
	for _, text := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg),
	} {
		assertNoSecrets(t, text, cfg)
	}
}

func assertNoSecrets(t *testing.T, text string, cfg s3.Config) {
	t.Helper()
	for _, secret := range []string{cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken} {
		if secret != "" && strings.Contains(text, secret) {
			t.Errorf("text contains a credential: %q", text)
		}
	}
}

// closedPort returns 127.0.0.1:PORT where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestTLSWithCustomCA(t *testing.T) {
	srv := s3test.StartTLS(t)
	cfg := srv.Config(srv.NewBucket(t), "p")
	if !strings.HasPrefix(cfg.Endpoint, "https://") {
		t.Fatalf("endpoint %s is not https", cfg.Endpoint)
	}
	s := open(t, cfg)
	if err := s.Put(t.Context(), "obj", []byte("over tls")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(t.Context(), "obj", 0, -1); err != nil || string(got) != "over tls" {
		t.Fatalf("Get = %q, %v", got, err)
	}

	untrusted := cfg
	untrusted.CACertPEM = nil
	_, err := s3.Open(t.Context(), untrusted)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Open without the CA = %v, want a certificate error", err)
	}
	if errors.Is(err, blob.ErrTransient) || errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("a certificate error must not be retried: %v", err)
	}
	garbage := cfg
	garbage.CACertPEM = []byte("not a certificate")
	if _, err := s3.Open(t.Context(), garbage); err == nil {
		t.Error("Open with an unparsable CA succeeded")
	}
}
