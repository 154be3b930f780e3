package archiver_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// D1: a block backup of something that is not a regular file or a block
// device is refused before anything is read (a directory's "size" from
// Seek is 2^63-1, which ran the process out of memory).
func TestBlockBackupRefusesNonImages(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	r := repotest.Init(t, mem.New())
	for _, tc := range []struct{ name, path, want string }{
		{"directory", dir, "it is a directory"},
		{"character device", "/dev/zero", "character device"},
		{"socket", sock, "socket"},
		{"missing", filepath.Join(dir, "nope"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := archiver.Backup(context.Background(), r, []string{tc.path}, archiver.Options{Block: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("block backup of a %s: %v, want an error saying %q", tc.name, err, tc.want)
			}
		})
	}
	if _, err := archiver.Backup(context.Background(), r, []string{img}, archiver.Options{Block: true}); err != nil {
		t.Fatalf("block backup of an image file: %v", err)
	}
	ids, err := r.ListFiles(context.Background(), repo.KindSnapshot)
	if err != nil || len(ids) != 1 {
		t.Fatalf("want exactly the image's snapshot, got %d (%v)", len(ids), err)
	}
}
