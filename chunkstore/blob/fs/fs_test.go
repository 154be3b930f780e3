package fs_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/blobtest"
	"github.com/cairnbackup/cairn/chunkstore/blob/fs"
	"github.com/cairnbackup/cairn/chunkstore/blob/retry"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, t.TempDir()) })
}

func open(t *testing.T, dir string) *fs.Store {
	t.Helper()
	s, err := fs.Open(dir, fs.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func TestOpen(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		create  bool
		wantErr error // nil: success; errAny: some error
	}{
		{"existing", base, false, nil},
		{"missing", filepath.Join(base, "nope"), false, blob.ErrLocationMissing},
		{"missing with create", filepath.Join(base, "new/deeper"), true, nil},
		{"a file", file, false, errAny},
		{"empty path", "", false, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := fs.Open(tc.dir, fs.Options{Create: tc.create})
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Open: %v", err)
			case tc.wantErr == nil:
				if s.Location() != tc.dir {
					t.Errorf("Location() = %q, want %q", s.Location(), tc.dir)
				}
			case err == nil:
				t.Fatalf("Open succeeded, want an error")
			case tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("Open = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestTempFilesAreInvisible(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Put(t.Context(), "data/ab/obj", []byte("x")); err != nil {
		t.Fatal(err)
	}
	// What a crash between create and rename leaves behind.
	leftover := filepath.Join(dir, "data", "ab", ".tmp-123456")
	if err := os.WriteFile(leftover, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := s.List(t.Context(), "", func(i blob.Info) error { names = append(names, i.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"data/ab/obj"}) {
		t.Errorf("List = %q, want only data/ab/obj", names)
	}
	if err := s.Put(t.Context(), "data/.tmp-evil", []byte("x")); err == nil {
		t.Error("Put of a temp-looking name succeeded")
	}
}

func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	old := filepath.Join(dir, "data", ".tmp-old")
	young := filepath.Join(dir, ".tmp-young")
	for _, p := range []string{old, young} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	removed, err := s.CleanTemp(t.Context(), time.Hour)
	if err != nil || removed != 1 {
		t.Fatalf("CleanTemp = %d, %v; want 1, nil", removed, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old temp file still there: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young temp file removed: %v", err)
	}
}

func TestRootVanishes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	s, err := fs.Open(dir, fs.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "data/ab/obj", []byte("x")); !errors.Is(err, blob.ErrLocationMissing) {
		t.Errorf("Put after the root vanished = %v, want ErrLocationMissing", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Put recreated the vanished root: %v", err)
	}
	if err := s.List(t.Context(), "", func(blob.Info) error { return nil }); !errors.Is(err, blob.ErrLocationMissing) {
		t.Errorf("List after the root vanished = %v, want ErrLocationMissing", err)
	}
}

func TestPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root ignores mode bits; TestTranslate covers the mapping itself.
		t.Log("running as root: mode bits cannot deny access, relying on TestTranslate")
		return
	}
	dir := t.TempDir()
	s := open(t, dir)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if err := s.Put(t.Context(), "obj", []byte("x")); !errors.Is(err, blob.ErrPermission) {
		t.Errorf("Put into a read-only root = %v, want ErrPermission", err)
	}
}

// D10: temporary files of killed writers are reported and removable
// through blob.LeftoverCleaner, also through the retry wrapper.
func TestLeftovers(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	tmp := filepath.Join(dir, "data", "ab", ".tmp-123")
	if err := os.MkdirAll(filepath.Dir(tmp), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, []byte("partial pack"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "data/ab/obj", []byte("whole")); err != nil {
		t.Fatal(err)
	}
	wrapped := retry.Wrap(s, retry.Policy{})
	var found []blob.Leftover
	if err := blob.Leftovers(t.Context(), wrapped, func(l blob.Leftover) error { found = append(found, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Name != "data/ab/.tmp-123" || found[0].Size != int64(len("partial pack")) {
		t.Fatalf("leftovers = %+v, want the one temporary file", found)
	}
	if err := blob.RemoveLeftover(t.Context(), wrapped, found[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file still there: %v", err)
	}
	if err := s.RemoveLeftover(t.Context(), blob.Leftover{Handle: "data/ab/obj"}); err == nil {
		t.Fatal("RemoveLeftover deleted an object")
	}
}
