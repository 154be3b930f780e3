package repocli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// D10: what killed writers leave behind (temporary files, session files)
// is reported by check and removed by prune once older than the grace
// period; younger leftovers stay, as their writer may still be running.
func TestLeftoversOfDeadProcesses(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	h.ok("backup", h.pwFile)
	old := time.Now().Add(-2 * time.Hour)
	tmpOld := filepath.Join(h.repo, "data", "ab", ".tmp-4242")
	tmpYoung := filepath.Join(h.repo, "data", "cd", ".tmp-4343")
	for _, p := range []string{tmpOld, tmpYoung} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		h.writeFile(p, strings.Repeat("partial pack ", 1000))
	}
	if err := os.Chtimes(tmpOld, old, old); err != nil {
		t.Fatal(err)
	}
	store := repotest.FS(t, h.repo)
	r := repotest.Open(t, store)
	info, _ := json.Marshal(repo.SessionInfo{Host: "node-9", PID: 77, Purpose: "backup", Started: old.UnixNano(), Heartbeat: old.UnixNano()})
	sess := "sessions/" + core.RandomID().String()
	if err := store.Put(context.Background(), sess, r.Key().Seal(nil, info)); err != nil {
		t.Fatal(err)
	}

	c := h.ok("check")
	if !strings.Contains(c.stdout, "2 partial writes") || !strings.Contains(c.stdout, "node-9, pid 77") || !strings.Contains(c.stdout, "no problems found") {
		t.Fatalf("check does not report the leftovers:\n%s", c.stdout)
	}
	p := h.ok("prune")
	if !strings.Contains(p.stdout, "removed 1 partial write") || !strings.Contains(p.stdout, "1 stale session") {
		t.Fatalf("prune output:\n%s", p.stdout)
	}
	if _, err := os.Stat(tmpOld); !os.IsNotExist(err) {
		t.Fatalf("the old temporary file survived prune: %v", err)
	}
	if _, err := os.Stat(tmpYoung); err != nil {
		t.Fatalf("prune removed a young temporary file: %v", err)
	}
	if _, err := store.Stat(context.Background(), sess); err == nil {
		t.Fatal("the stale session survived prune")
	}
	if c := h.ok("check"); strings.Contains(c.stdout, "node-9") || !strings.Contains(c.stdout, "1 partial write") {
		t.Fatalf("check after prune:\n%s", c.stdout)
	}
}
