package repocli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/repo"
)

func TestKeyFlows(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	pw2 := filepath.Join(h.dir, "pw2")
	pw3 := filepath.Join(h.dir, "pw3")
	h.writeFile(pw2, "second password")
	h.writeFile(pw3, "third password\r\n")

	var keys []repo.KeyInfo
	h.okJSON(&keys, "key", "list")
	if len(keys) != 1 || !keys[0].Current {
		t.Fatalf("key list after init: %+v", keys)
	}
	first := keys[0].ID

	var added map[string]string
	h.okJSON(&added, "key", "add", "--new-password-file", pw2)
	if r := h.runWith(pw2, "key", "list"); r.code != 0 || strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stdout, "*") {
		t.Fatalf("key list with the added password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// passwd replaces the key that opened the repository: pw2's.
	var changed map[string]string
	if r := h.runWith(pw2, "key", "passwd", "--new-password-file", pw3, "--json"); r.code != 0 {
		t.Fatalf("key passwd: exit %d: %s", r.code, r.stderr)
	} else if err := jsonDecode(r.stdout, &changed); err != nil {
		t.Fatal(err)
	}
	checkFailure(t, h.runWith(pw2, "snapshots"), 1, "password", []string{"snapshots (old password)"})
	if r := h.runWith(pw3, "snapshots"); r.code != 0 {
		t.Fatalf("snapshots with the new password: exit %d: %s", r.code, r.stderr)
	}
	h.ok("snapshots") // the first key is untouched

	// remove: not the key in use, by prefix otherwise.
	h.fails(1, "key in use", "key", "remove", first.String())
	h.ok("key", "remove", changed["key_id"][:10])
	checkFailure(t, h.runWith(pw3, "snapshots"), 1, "password", []string{"snapshots (removed key)"})
	h.okJSON(&keys, "key", "list")
	if len(keys) != 1 || keys[0].ID != first {
		t.Fatalf("key list after remove: %+v", keys)
	}

	h.fails(1, "--new-password-file", "key", "add")
	h.fails(1, "no key ID starts with", "key", "remove", "ffffffff")
}
