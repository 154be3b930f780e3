package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// command is one invocation of a tool.
type command struct {
	bin  string
	args []string
	env  []string // added to the cleaned environment
}

// measurement is what one child process cost. Wall time runs from fork to
// reap, as the launcher saw it; CPU and peak RSS come from the child's
// rusage, which covers the child and any children it waited for.
type measurement struct {
	Wall   time.Duration
	User   time.Duration
	Sys    time.Duration
	MaxRSS int64 // bytes
	// MachineBusy is the CPU time all processes used meanwhile, from
	// /proc/stat; minus the child's own, it shows interference from
	// other work on a shared machine.
	MachineBusy time.Duration
	Stdout      []byte
}

// commandTimeout bounds one tool run: the slowest expected step, a 2 GiB
// restore, takes well under a minute; the rest is slack for a loaded machine.
const commandTimeout = 30 * time.Minute

// stderrTail is how much of a failing tool's stderr an error quotes.
const stderrTail = 4096

func (c command) String() string {
	return strings.Join(append([]string{c.bin}, c.args...), " ")
}

// runner starts tools through the launcher (see LauncherArg), so that
// their peak RSS is their own.
type runner struct{ launcher string }

// run starts the command, waits for it and returns its cost. Any non-zero
// exit is an error that quotes the end of stderr: a tool that reports
// partial success has not done the work being measured.
func (r runner) run(ctx context.Context, c command) (measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.launcher, append([]string{LauncherArg, c.bin}, c.args...)...)
	cmd.Env = append(cleanEnv(), c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	rd, wr, err := os.Pipe()
	if err != nil {
		return measurement{}, err
	}
	defer rd.Close()
	cmd.ExtraFiles = []*os.File{wr}
	busy := machineBusy()
	err = cmd.Start()
	wr.Close()
	if err == nil {
		err = cmd.Wait()
	}
	m := measurement{MachineBusy: machineBusy() - busy, Stdout: stdout.Bytes()}
	var rep launchReport
	if jerr := json.NewDecoder(rd).Decode(&rep); jerr == nil {
		m.Wall, m.User, m.Sys, m.MaxRSS = time.Duration(rep.WallNs), time.Duration(rep.UserNs), time.Duration(rep.SysNs), rep.MaxRSS
	} else if err == nil {
		err = fmt.Errorf("no report from the launcher: %w", jerr)
	}
	if err != nil {
		return m, fmt.Errorf("%s: %w\n%s", c, err, tail(stderr.Bytes(), stderrTail))
	}
	return m, nil
}

// machineBusy is the CPU time spent so far by the whole machine, outside
// idle and I/O wait, from the first line of /proc/stat (in USER_HZ ticks).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

func usage(ps *os.ProcessState) (*syscall.Rusage, bool) {
	if ps == nil {
		return nil, false
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	return ru, ok
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = append([]byte("…"), b[len(b)-n:]...)
	}
	return string(b)
}

// cleanEnv drops variables through which the developer's shell could
// change a tool's behaviour (repository, password, cache, S3 endpoint), so
// that every tool runs as configured here and nowhere else.
func cleanEnv() []string {
	drop := []string{"RESTIC_", "KOPIA_", "CAIRN_", "AWS_", "GOGC=", "GOMAXPROCS=", "GOMEMLIMIT=", "GODEBUG=", "HOME=", "XDG_"}
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range drop {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}
