package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// LauncherArg, as the first argument, makes the benchmark binary a
// launcher: it runs the rest of its arguments as a command and reports
// the command's cost on file descriptor 3. main must check for it first.
//
// Why a launcher: Linux carries a process's peak RSS across execve, and Go
// starts children with vfork semantics, so a tool started by the harness
// directly would report at least the harness's own peak RSS (hundreds of
// MiB after verifying a restore). A launcher freshly started is a few MiB,
// and that is all a tool it starts inherits.
const LauncherArg = "-launch-child"

// launchReport is what the launcher writes on fd 3.
type launchReport struct {
	WallNs  int64 `json:"wall_ns"`
	UserNs  int64 `json:"user_ns"`
	SysNs   int64 `json:"sys_ns"`
	MaxRSS  int64 `json:"max_rss"` // bytes
	Started bool  `json:"started"`
}

// Launch is the launcher's main: it runs args with the launcher's stdin,
// stdout and stderr, writes the report on fd 3, and returns the exit code
// to exit with: the command's own, or 1 if it could not run or was killed.
func Launch(args []string) int {
	report := os.NewFile(3, "report")
	if report == nil || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "cairn-bench launcher: needs a command and a report descriptor")
		return 1
	}
	// The tool must not inherit the report pipe: the harness reads it to
	// the end only once every writer has closed it.
	syscall.CloseOnExec(3)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The tool dies with the launcher, which dies with the harness.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err := cmd.Run()
	rep := launchReport{WallNs: int64(time.Since(start)), Started: cmd.ProcessState != nil}
	if ru, ok := usage(cmd.ProcessState); ok {
		rep.UserNs, rep.SysNs, rep.MaxRSS = ru.Utime.Nano(), ru.Stime.Nano(), ru.Maxrss*1024 // KiB on Linux
	}
	if jerr := json.NewEncoder(report).Encode(rep); jerr != nil {
		fmt.Fprintln(os.Stderr, "cairn-bench launcher: report:", jerr)
		return 1
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		return exit.ExitCode()
	default:
		fmt.Fprintln(os.Stderr, "cairn-bench launcher:", err)
		return 1
	}
}
