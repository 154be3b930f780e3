package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Passwords of every campaign repository: the first opens the key made by
// init, the second a key added with 'key add'.
const (
	password1 = "campaign password one"
	password2 = "campaign password two"
)

// cairn runs the binary against one repository.
type cairn struct {
	bin      string
	repo     []string // --repo and the S3 flags
	env      []string // AWS credentials, when on S3
	password string
}

// outcome is a finished run.
type outcome struct {
	args           []string
	code           int
	stdout, stderr string
	took           time.Duration
}

func (o outcome) String() string {
	return fmt.Sprintf("cairn repo %s: exit %d after %s\nstdout:\n%s\nstderr:\n%s",
		strings.Join(o.args, " "), o.code, o.took.Round(time.Millisecond), clip(o.stdout), clip(o.stderr))
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:2000] + "\n…\n" + s[len(s)-2000:]
	}
	return s
}

func (c *cairn) command(ctx context.Context, args []string) *exec.Cmd {
	full := append(append([]string{"repo"}, args...), c.repo...)
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env = append(append(os.Environ(), c.env...), "CAIRN_PASSWORD="+c.password)
	// The campaign's own SIGKILL must not take the child's children along,
	// and a dying campaign must not leave a child running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// run runs one command to its end.
func (c *cairn) run(ctx context.Context, args ...string) outcome {
	cmd := c.command(ctx, args)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	o := outcome{args: args, stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	o.code = exitCode(err)
	return o
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	}
	return -1 // killed, or not started
}

// must runs a command that has to succeed (exit 0) and decodes its --json
// output into v when v is not nil.
func (c *cairn) must(ctx context.Context, v any, args ...string) (outcome, error) {
	if v != nil {
		args = append(args, "--json")
	}
	o := c.run(ctx, args...)
	if o.code != 0 {
		return o, fmt.Errorf("%s", o)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(o.stdout), v); err != nil {
			return o, fmt.Errorf("decode the JSON of %s: %w", o, err)
		}
	}
	return o, nil
}

// killAfter starts a command and kills it with SIGKILL after d. It reports
// whether the kill came before the command ended on its own.
func (c *cairn) killAfter(ctx context.Context, d time.Duration, args ...string) (bool, outcome, error) {
	cmd := c.command(ctx, args)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return false, outcome{}, fmt.Errorf("start %s: %w", c.bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	killed := false
	select {
	case err = <-done:
	case <-time.After(d):
		killed = cmd.Process.Signal(syscall.SIGKILL) == nil
		err = <-done
		killed = killed && exitCode(err) == -1
	}
	o := outcome{args: args, stdout: out.String(), stderr: errb.String(), took: time.Since(start), code: exitCode(err)}
	return killed, o, nil
}

// backupJSON is the part of backup --json the campaign reads.
type backupJSON struct {
	SnapshotID string `json:"snapshot_id"`
	Bytes      int64  `json:"bytes"`
	BytesRead  int64  `json:"bytes_read"`
	BytesAdded int64  `json:"bytes_added"`
}

// restoreJSON is the part of restore --json the campaign reads.
type restoreJSON struct {
	Files   int64 `json:"files"`
	Bytes   int64 `json:"bytes"`
	Damaged []struct {
		Path string `json:"path"`
		Blob string `json:"blob"`
	} `json:"damaged"`
}

// checkJSON is the part of check --json the campaign reads.
type checkJSON struct {
	OK       bool `json:"ok"`
	Problems []struct {
		Object  string `json:"object"`
		Message string `json:"message"`
	} `json:"problems"`
}

// checkClean runs check --read-data, which must find no problem.
func (c *cairn) checkClean(ctx context.Context) error {
	var rep checkJSON
	o := c.run(ctx, "check", "--read-data", "--json")
	if o.code == 0 {
		return nil
	}
	if err := json.Unmarshal([]byte(o.stdout), &rep); err != nil || len(rep.Problems) == 0 {
		return fmt.Errorf("check --read-data failed: %s", o)
	}
	var b strings.Builder
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Object, p.Message)
	}
	return fmt.Errorf("check --read-data found %d problems:%s\nstderr: %s", len(rep.Problems), b.String(), o.stderr)
}
