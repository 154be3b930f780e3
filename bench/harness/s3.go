package harness

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// s3Region is what versitygw is started with and what cairn is told.
const s3Region = "us-east-1"

// s3ReadyTimeout bounds the wait for versitygw to answer; it takes well
// under a second, the rest is slack for a loaded machine.
const s3ReadyTimeout = 20 * time.Second

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; it is 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// s3Server is versitygw on loopback, serving a posix directory: each
// bucket is a subdirectory, so a repository's size is that directory's.
type s3Server struct {
	endpoint             string
	dir                  string
	accessKey, secretKey string
	cmd                  *exec.Cmd
	exited               chan struct{}
	out                  bytes.Buffer
}

// startS3 runs versitygw over dir, which it creates. The server dies with
// the harness (Pdeathsig) if the harness is killed.
func startS3(bin, dir string) (*s3Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &s3Server{endpoint: "http://" + addr, dir: dir, accessKey: "AK" + randomHex(9),
		secretKey: "SK" + randomHex(18), exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "--port", addr, "--quiet", "--region", s3Region, "posix", dir)
	s.cmd.Env = append(cleanEnv(), "ROOT_ACCESS_KEY="+s.accessKey, "ROOT_SECRET_KEY="+s.secretKey)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, fmt.Errorf("versitygw: %w; output:\n%s", err, s.out.String())
	}
	return s, nil
}

func (s *s3Server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(s3ReadyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("exited before it was ready")
		default:
		}
		if resp, err := client.Get(s.endpoint + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not answering on %s after %v", s.endpoint, s3ReadyTimeout)
}

func (s *s3Server) stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// clientEnv gives cairn the server's credentials.
func (s *s3Server) clientEnv() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.accessKey, "AWS_SECRET_ACCESS_KEY=" + s.secretKey,
		"AWS_REGION=" + s3Region}
}

func (s *s3Server) bucketDir(bucket string) string { return filepath.Join(s.dir, bucket) }

// cpuSeconds is the server's user+system time so far, from /proc.
func (s *s3Server) cpuSeconds() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / clockTicks
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
