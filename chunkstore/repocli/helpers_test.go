package repocli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// harness drives the repo command in-process against a temp-dir repository,
// the way cmd/cairn does: one line "cairn: <err>" on stderr and ExitCode.
type harness struct {
	t      *testing.T
	dir    string
	repo   string
	pwFile string
}

type result struct {
	stdout, stderr string
	code           int
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	// The developer's environment must not leak into the tests.
	t.Setenv(envPassword, "")
	t.Setenv(envRepository, "")
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, repo: filepath.Join(dir, "repo"), pwFile: filepath.Join(dir, "password")}
	h.writeFile(h.pwFile, "correct horse battery staple\n")
	return h
}

func (h *harness) writeFile(path, content string) {
	h.t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// run executes "repo ARGS... --repo R --password-file P --kdf-fast".
func (h *harness) run(args ...string) result {
	h.t.Helper()
	return h.runWith(h.pwFile, args...)
}

func (h *harness) runWith(pwFile string, args ...string) result {
	h.t.Helper()
	full := append(append([]string{}, args...), "--repo", h.repo, "--kdf-fast")
	if pwFile != "" {
		full = append(full, "--password-file", pwFile)
	}
	return execute(full...)
}

// execute runs the command tree with exactly args and no terminal.
func execute(args ...string) result {
	cmd := NewCommand()
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		errb.WriteString("cairn: " + err.Error() + "\n")
	}
	return result{stdout: out.String(), stderr: errb.String(), code: ExitCode(err)}
}

// ok runs args and fails the test unless the exit code is 0.
func (h *harness) ok(args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("cairn repo %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// okJSON runs args with --json and decodes stdout into v.
func (h *harness) okJSON(v any, args ...string) {
	h.t.Helper()
	r := h.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		h.t.Fatalf("cairn repo %s --json: decode %q: %v", strings.Join(args, " "), r.stdout, err)
	}
}

// fails runs args and checks the exit code and that stderr mentions want.
func (h *harness) fails(code int, want string, args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	checkFailure(h.t, r, code, want, args)
	return r
}

func checkFailure(t *testing.T, r result, code int, want string, args []string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("cairn repo %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("cairn repo %s: stderr %q does not mention %q", strings.Join(args, " "), r.stderr, want)
	}
}
