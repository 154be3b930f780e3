package harness

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary serve as its own launcher, as the
// benchmark binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == LauncherArg {
		os.Exit(Launch(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// ballast is touched memory that a child started directly would report
// as its own peak RSS.
var ballast []byte

func TestLauncherReportsTheChildsOwnRSS(t *testing.T) {
	ballast = make([]byte, 400<<20)
	for i := range ballast {
		ballast[i] = byte(i)
	}
	r := runner{launcher: os.Args[0]}
	m, err := r.run(context.Background(), command{bin: "/bin/sh", args: []string{"-c", "echo out"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Stdout) != "out\n" {
		t.Errorf("stdout %q", m.Stdout)
	}
	if m.MaxRSS == 0 || m.MaxRSS > 100<<20 {
		t.Errorf("peak RSS of sh: %d MiB; want a few MiB, not the parent's %d MiB", m.MaxRSS>>20, len(ballast)>>20)
	}
	if m.Wall <= 0 {
		t.Errorf("wall time %v", m.Wall)
	}
	ballast = nil
}

func TestLauncherFailures(t *testing.T) {
	r := runner{launcher: os.Args[0]}
	cases := []struct {
		name string
		c    command
		want string
	}{
		{"exit code", command{bin: "/bin/sh", args: []string{"-c", "echo broken >&2; exit 3"}}, "exit status 3"},
		{"stderr quoted", command{bin: "/bin/sh", args: []string{"-c", "echo broken >&2; exit 3"}}, "broken"},
		{"missing binary", command{bin: "/nonexistent/tool"}, "/nonexistent/tool"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.run(context.Background(), c.c)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
}
