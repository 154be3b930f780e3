package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cairnbackup/cairn/chunkstore/blob/s3"
)

const (
	// Region is what the server is started with and what Config uses.
	Region = "us-east-1"
	// readyTimeout bounds the wait for the server to answer; it normally
	// takes well under a second, the rest is slack for a loaded machine.
	readyTimeout = 20 * time.Second
	// startAttempts covers the small race between finding a free port and
	// the server binding it.
	startAttempts = 3
)

// Server is a running versitygw.
type Server struct {
	Endpoint  string // "http://127.0.0.1:PORT", or https:// from StartTLS
	Addr      string // "127.0.0.1:PORT"
	AccessKey string
	SecretKey string
	Dir       string // the posix backend's root: one subdirectory per bucket
	// CACertPEM and CACertFile hold the CA that signed the server's
	// certificate; both are empty unless the server came from StartTLS.
	CACertPEM  []byte
	CACertFile string

	tls tlsFiles

	buckets atomic.Int64
	stop    func()
}

// Start runs a plain-HTTP server for the rest of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

// StartTLS runs an HTTPS server whose certificate is signed by a throwaway
// CA, found in CACertPEM and CACertFile.
func StartTLS(t testing.TB) *Server {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, useTLS bool) *Server {
	t.Helper()
	bin := Binary(t)
	s := &Server{AccessKey: "AK" + randomHex(t, 9), SecretKey: "SK" + randomHex(t, 18), Dir: t.TempDir()}
	if useTLS {
		s.tls = newTLSFiles(t)
		s.CACertPEM, s.CACertFile = s.tls.caPEM, s.tls.caFile
	}
	for attempt := 1; ; attempt++ {
		err := s.start(t, bin)
		if err == nil {
			return s
		}
		if attempt == startAttempts {
			t.Fatalf("s3test: start versitygw: %v", err)
		}
	}
}

// Launch runs a plain-HTTP server with its buckets under dir until Stop,
// for programs that need a real S3 server outside a test (the demo, the
// fault campaign). bin is the versitygw binary; empty finds it as Binary
// does.
func Launch(bin, dir string) (*Server, error) {
	if bin == "" {
		var err error
		if bin, err = binaryPath(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	b := make([]byte, 27)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	keys := strings.ToUpper(hex.EncodeToString(b))
	s := &Server{AccessKey: "AK" + keys[:18], SecretKey: "SK" + keys[18:], Dir: dir}
	for attempt := 1; ; attempt++ {
		_, err := s.launch(bin)
		if err == nil {
			return s, nil
		}
		if attempt == startAttempts {
			return nil, err
		}
	}
}

func (s *Server) start(t testing.TB, bin string) error {
	out, err := s.launch(bin)
	if err != nil {
		return err
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("versitygw output:\n%s", out.String())
		}
	})
	return nil
}

// launch starts the process and waits until it serves; it sets s.stop.
func (s *Server) launch(bin string) (*lockedBuffer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	out := &lockedBuffer{}
	args := []string{"--port", addr, "--quiet", "--region", Region}
	scheme := "http://"
	if s.tls.certFile != "" {
		args = append(args, "--cert", s.tls.certFile, "--key", s.tls.keyFile)
		scheme = "https://"
	}
	cmd := exec.Command(bin, append(args, "posix", s.Dir)...)
	cmd.Env = append(cleanEnv(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
	}
	if err := waitReady(scheme+addr, s.CACertPEM, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w; server output:\n%s", err, out.String())
	}
	s.Addr, s.Endpoint, s.stop = addr, scheme+addr, stop
	return out, nil
}

// Stop kills the server now, to test what clients do when it disappears.
// Calling it more than once is harmless.
func (s *Server) Stop() { s.stop() }

// waitReady polls until the server answers HTTP at all; an unauthenticated
// request gets 403, which proves the S3 API is being served.
func waitReady(url string, caPEM []byte, exited <-chan struct{}) error {
	tr := &http.Transport{}
	if caPEM != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: time.Second, Transport: tr}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("versitygw exited before it was ready")
		default:
		}
		if resp, err := client.Get(url + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw not answering on %s after %v", url, readyTimeout)
}

// Config returns a store configuration for bucket and prefix on this server.
func (s *Server) Config(bucket, prefix string) s3.Config {
	return s3.Config{
		Endpoint:        s.Endpoint,
		Bucket:          bucket,
		Prefix:          prefix,
		Region:          Region,
		PathStyle:       true,
		CACertPEM:       s.CACertPEM,
		AccessKeyID:     s.AccessKey,
		SecretAccessKey: s.SecretKey,
	}
}

// CreateBucket creates a bucket through the S3 API, independently of the
// code under test.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	opts := &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region:       Region,
		BucketLookup: minio.BucketLookupPath,
	}
	if s.CACertPEM != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(s.CACertPEM)
		opts.Secure = true
		opts.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	client, err := minio.New(s.Addr, opts)
	if err != nil {
		t.Fatalf("s3test: client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: Region}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
}

// NewBucket creates a bucket with a name unique on this server.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test-%03d", s.buckets.Add(1))
	s.CreateBucket(t, name)
	return name
}

// Binary returns the versitygw path, failing the test if it is missing.
func Binary(t testing.TB) string {
	t.Helper()
	p, err := binaryPath()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func binaryPath() (string, error) {
	if p := os.Getenv("CAIRN_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("s3test: CAIRN_VERSITYGW=%s: %w (unset it to use the binary `make tools` installs)", p, err)
		}
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("s3test: %w", err)
	}
	p := filepath.Join(root, ".tools", "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("s3test: versitygw not found at %s: run `make tools` to install it (or set CAIRN_VERSITYGW)", p)
	}
	return p, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// cleanEnv drops variables versitygw would read as configuration, so the
// developer's shell cannot change the server under test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VGW_") && !strings.HasPrefix(kv, "ROOT_") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("s3test: random: %v", err)
	}
	return strings.ToUpper(hex.EncodeToString(b))
}

// lockedBuffer collects the server's output from exec's copying goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
