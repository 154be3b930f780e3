package repocli

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

func jsonDecode(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode %q: %w", s, err)
	}
	return nil
}

func TestWrongPassword(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	wrong := filepath.Join(h.dir, "wrong")
	h.writeFile(wrong, "not-the-password")
	r := h.runWith(wrong, "snapshots")
	checkFailure(t, r, 1, "password", []string{"snapshots (wrong password)"})
	if strings.Contains(r.stderr+r.stdout, "not-the-password") || strings.Contains(r.stderr+r.stdout, "correct horse") {
		t.Fatalf("a password appears in the output: %q", r.stderr)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 {
		t.Fatalf("want one error line, got %d: %q", n, r.stderr)
	}
	checkFailure(t, h.runWith("", "snapshots"), 1, "CAIRN_PASSWORD", []string{"snapshots (no password)"})
	t.Setenv(envPassword, "correct horse battery staple")
	if r := h.runWith("", "snapshots"); r.code != 0 {
		t.Fatalf("password from %s: exit %d: %s", envPassword, r.code, r.stderr)
	}
}

func TestUserErrors(t *testing.T) {
	h := newHarness(t)
	missing := filepath.Join(h.dir, "missing")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no repository", []string{"snapshots"}, "pass --repo URL or set CAIRN_REPOSITORY"},
		{"repository missing", []string{"snapshots", "--repo", missing, "--password-file", h.pwFile}, missing},
		{"bad location", []string{"snapshots", "--repo", "s3://", "--password-file", h.pwFile}, "accepted forms"},
		{"unknown flag", []string{"backup", "--bogus"}, "see 'repo backup --help'"},
		{"no paths", []string{"backup"}, "at least one PATH"},
		{"restore without target", []string{"restore", "latest"}, `"target" not set`},
		{"empty password file", []string{"snapshots", "--repo", h.repo, "--password-file", "/dev/null"}, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFailure(t, execute(tc.args...), 1, tc.want, tc.args)
		})
	}

	h.ok("init")
	h.fails(1, "already exists", "init")
	h.fails(1, "compression level", "backup", "--compression", "max", h.dir)
	h.fails(1, "no such file", "backup", filepath.Join(h.dir, "nope"))
	h.fails(1, "no snapshots yet", "ls", "latest")
	h.fails(1, "no snapshot ID starts with", "restore", "abcdef", "--target", h.dir)
	h.fails(1, "--block takes exactly one", "backup", "--block", h.dir, h.repo)
}

// Unreadable entries cannot be produced reliably when tests run as root,
// so the exit-code path is checked on a Result carrying warnings.
func TestBackupWarningsExitCode(t *testing.T) {
	g := &globals{}
	var out, errb strings.Builder
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	res := &archiver.Result{ID: core.ID{0xab}, Snapshot: &snapshot.Snapshot{Kind: snapshot.KindFiles, Time: time.Now()},
		Warnings: []error{errors.New("open /src/secret: permission denied")}}
	err := g.reportBackup(cmd, res, false, archiver.Options{Workers: 1, Uploads: 1})
	if ExitCode(err) != ExitWarnings || !strings.Contains(err.Error(), "1 source entry could not be read") {
		t.Fatalf("err = %v (exit %d), want exit %d", err, ExitCode(err), ExitWarnings)
	}
	if !strings.Contains(errb.String(), "cairn: warning: open /src/secret: permission denied") {
		t.Fatalf("stderr = %q", errb.String())
	}
	if !strings.Contains(out.String(), "snapshot ab000000 saved") {
		t.Fatalf("stdout = %q", out.String())
	}
}
