package repocli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// corruptFile flips one byte in the middle of a file.
func corruptFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// D4 and D5: a corrupt key file costs only its own password. The other
// key still opens the repository (with a warning naming the bad one),
// check reports it, and key remove gets rid of it.
func TestDamagedKeyFile(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	var keys []repo.KeyInfo
	h.okJSON(&keys, "key", "list")
	first := keys[0].ID
	pw2 := filepath.Join(h.dir, "pw2")
	h.writeFile(pw2, "second password")
	var added map[string]string
	h.okJSON(&added, "key", "add", "--new-password-file", pw2)
	corruptFile(t, filepath.Join(h.repo, "keys", first.String()))

	r := h.runWith(pw2, "snapshots")
	if r.code != 0 || !strings.Contains(r.stderr, "key file keys/"+first.String()+" is damaged") {
		t.Fatalf("open with the healthy key: exit %d, stderr %q", r.code, r.stderr)
	}
	// The damaged key's own password: refused, saying why that may be.
	r = h.run("snapshots")
	checkFailure(t, r, 1, "1 key file is damaged", []string{"snapshots (password of the damaged key)"})

	r = h.runWith(pw2, "check")
	if r.code != 1 || !strings.Contains(r.stdout, "keys/"+first.String()) {
		t.Fatalf("check with a damaged key file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := h.runWith(pw2, "key", "list"); r.code != 0 || !strings.Contains(r.stdout, "DAMAGED") {
		t.Fatalf("key list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := h.runWith(pw2, "key", "remove", first.String()[:8]); r.code != 0 {
		t.Fatalf("key remove of the damaged key: exit %d: %s", r.code, r.stderr)
	}
	if r := h.runWith(pw2, "check"); r.code != 0 || r.stderr != "" {
		t.Fatalf("check after removing the damaged key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
