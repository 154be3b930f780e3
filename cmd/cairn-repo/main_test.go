package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoClusterClient keeps cairn-repo lean: the reason it exists is
// that it links none of the Kubernetes client, the API types or the
// control plane, whose code start-up would touch.
func TestLinksNoClusterClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps printed %d packages, expected the repository CLI's dependencies:\n%s", len(deps), out)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "k8s.io/") || strings.HasPrefix(p, "sigs.k8s.io/") ||
			strings.HasPrefix(p, "github.com/cairnbackup/cairn/controlplane") {
			t.Errorf("cairn-repo links %s", p)
		}
	}
}
