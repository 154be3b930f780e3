package v1alpha1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesAreFresh regenerates the CRDs and deep-copy code into a
// temporary directory and compares them with the committed files: a change
// to the types without `make generate` fails here.
func TestGeneratedFilesAreFresh(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(root, ".tools", "bin", "controller-gen")
	if _, err := os.Stat(gen); err != nil {
		t.Fatalf("controller-gen not found at %s; run `make tools`", gen)
	}
	out := t.TempDir()
	run(t, root, gen, "crd", "paths=./controlplane/api/...", "output:crd:artifacts:config="+out)
	entries, err := os.ReadDir(filepath.Join(root, "deploy", "crds"))
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := os.ReadDir(out)
	if len(fresh) != len(entries) {
		t.Fatalf("controller-gen writes %d CRDs, deploy/crds has %d; run `make generate`", len(fresh), len(entries))
	}
	for _, e := range entries {
		same(t, filepath.Join(root, "deploy", "crds", e.Name()), filepath.Join(out, e.Name()))
	}
	deepcopy := filepath.Join(root, "controlplane", "api", "v1alpha1", "zz_generated.deepcopy.go")
	saved, err := os.ReadFile(deepcopy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(deepcopy, saved, 0o644) })
	run(t, root, gen, "object", "paths=./controlplane/api/...")
	regenerated, _ := os.ReadFile(deepcopy)
	if !bytes.Equal(saved, regenerated) {
		t.Fatal("zz_generated.deepcopy.go is stale; run `make generate`")
	}
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func same(t *testing.T, committed, fresh string) {
	t.Helper()
	a, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatalf("%s is not generated any more; run `make generate`", filepath.Base(committed))
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("%s is stale; run `make generate`", filepath.Base(committed))
	}
}
