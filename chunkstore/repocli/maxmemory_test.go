package repocli

import (
	"os"
	"path/filepath"
	"testing"
)

// With --max-memory the commands read the index through the local cache,
// built on first use, and a deleted cache is rebuilt: the answers are the
// same.
func TestMaxMemoryUsesIndexCache(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o700); err != nil {
		t.Fatal(err)
	}
	h.writeFile(filepath.Join(src, "a.txt"), "some content to back up")
	cache := t.TempDir()
	mem := []string{"--max-memory", "128MiB", "--cache-dir", cache}
	h.ok(append([]string{"backup", src}, mem...)...)
	if m, _ := filepath.Glob(filepath.Join(cache, "*", "manifest.json")); len(m) != 1 {
		t.Fatalf("no index cache was built in %s: %v", cache, m)
	}
	h.ok(append([]string{"backup", src}, mem...)...)
	h.ok(append([]string{"check"}, mem...)...)
	if err := os.RemoveAll(cache); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	h.ok(append([]string{"restore", "latest", "--target", dst}, mem...)...)
	got, err := os.ReadFile(filepath.Join(dst, "src", "a.txt"))
	if err != nil || string(got) != "some content to back up" {
		t.Fatalf("restore through a rebuilt cache: %q, %v", got, err)
	}
	h.ok(append([]string{"prune"}, mem...)...)
	h.ok(append([]string{"check"}, mem...)...)
}
