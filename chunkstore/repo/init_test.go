package repo_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// D3: init over the remains of a repository whose config is gone, or over
// unrelated objects, is refused: a new config there would make the old
// keys and data unreadable for good.
func TestInitRefusesNonEmptyLocations(t *testing.T) {
	lost := mem.New()
	repotest.Init(t, lost)
	if err := lost.Delete(ctx, "config"); err != nil {
		t.Fatal(err)
	}
	unrelated := mem.New()
	if err := unrelated.Put(ctx, "photos/cat.jpg", []byte("meow")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		store *mem.Store
		want  string
	}{
		{"config lost", lost, "holds repository objects (keys/"},
		{"unrelated data", unrelated, "holds photos/cat.jpg, which is not part of a repository"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := repo.Init(ctx, tc.store, repotest.Password, repotest.Options())
			if !errors.Is(err, repo.ErrNotEmpty) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("init: %v, want ErrNotEmpty saying %q", err, tc.want)
			}
			if _, err := tc.store.Stat(ctx, "config"); err == nil {
				t.Fatal("a refused init wrote a config")
			}
		})
	}
}
