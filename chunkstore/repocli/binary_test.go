package repocli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
)

// TestBinary builds cmd/cairn and checks what only a process shows: exit
// codes, stdout/stderr separation and the environment variables.
func TestBinary(t *testing.T) {
	skipShort(t, "builds the cairn binary")
	dir := t.TempDir()
	bin := filepath.Join(dir, "cairn")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/cairnbackup/cairn/cmd/cairn").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src := filepath.Join(dir, "src")
	testtree.Build(t, src, testtree.Spec{Seed: 3, SmallFiles: 8})
	env := append(os.Environ(), envRepository+"="+filepath.Join(dir, "repo"), envPassword+"=binary-test-password")
	run := func(env []string, args ...string) (stdout, stderr string, code int) {
		cmd := exec.Command(bin, append([]string{"repo"}, args...)...)
		cmd.Env = env
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return o.String(), e.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), 0
	}

	if _, stderr, code := run(env, "init", "--kdf-fast"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := run(env, "backup", "--json", src)
	var res backupJSON
	if code != 0 || stderr != "" || json.Unmarshal([]byte(stdout), &res) != nil || res.Files == 0 {
		t.Fatalf("backup --json: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	wrong := append(os.Environ(), envRepository+"="+filepath.Join(dir, "repo"), envPassword+"=nope")
	stdout, stderr, code = run(wrong, "snapshots")
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "cairn: ") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("wrong password: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, stderr, code = run(env, "frobnicate"); code != 1 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("unknown command: exit %d, stderr %q", code, stderr)
	}
	checkUnreadable(t, run, env)
}

// checkUnreadable backs up a file even root cannot open (a write-only
// sysfs attribute) and expects exit code 3. Skipped where there is none.
func checkUnreadable(t *testing.T, run func([]string, ...string) (string, string, int), env []string) {
	const p = "/sys/bus/pci/rescan"
	if f, err := os.Open(p); err == nil {
		f.Close()
		t.Logf("%s is readable here; exit code 3 is covered by TestBackupWarningsExitCode only", p)
		return
	} else if !errors.Is(err, os.ErrPermission) {
		t.Logf("%s: %v; exit code 3 is covered by TestBackupWarningsExitCode only", p, err)
		return
	}
	stdout, stderr, code := run(env, "backup", p)
	if code != ExitWarnings || !strings.Contains(stdout, "saved") || !strings.Contains(stderr, "cairn: warning: ") {
		t.Fatalf("backup of an unreadable file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
