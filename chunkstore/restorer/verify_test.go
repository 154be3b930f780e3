package restorer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// --verify must catch a restored file that differs from the snapshot: a
// changed chunk, a non-zero hole, a wrong size.
func TestVerifierCatchesDifferences(t *testing.T) {
	h := chunker.NewHasher([32]byte{7})
	a, b := []byte(strings.Repeat("a", 1000)), []byte(strings.Repeat("b", 500))
	// Layout: a at 0, a hole of 100 bytes, b at 1100.
	content := append(append(append([]byte{}, a...), make([]byte, 100)...), b...)
	fo := &fileOut{node: &snapshot.Node{Size: int64(len(content))},
		chunks: []chunkRef{{off: 0, n: 1000, id: h.Sum(a)}, {off: 1100, n: 500, id: h.Sum(b)}}}
	for _, tc := range []struct {
		name   string
		change func([]byte) []byte
		want   string
	}{
		{"exact", func(c []byte) []byte { return c }, ""},
		{"changed chunk", func(c []byte) []byte { c[1200] = 'x'; return c }, "differs from the snapshot"},
		{"hole not zero", func(c []byte) []byte { c[1050] = 1; return c }, "should be zero"},
		{"too short", func(c []byte) []byte { return c[:len(c)-1] }, "size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fo.path = filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(fo.path, tc.change(append([]byte{}, content...)), 0o600); err != nil {
				t.Fatal(err)
			}
			err := (&verifier{hash: h}).file(fo)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("verify of an exact file: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verify: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
