package pruner_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
)

// TestMain runs every test twice: with the index in memory, then through
// the on-disk index cache, where prune works in bounded memory.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		dir, err := os.MkdirTemp("", "cairn-index-cache-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		repotest.SetIndexCache(dir)
		code = m.Run()
		os.RemoveAll(dir)
	}
	os.Exit(code)
}
