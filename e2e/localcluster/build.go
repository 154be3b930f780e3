package localcluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/cairnbackup/cairn/controlplane/testenv"
)

var build struct {
	once sync.Once
	dir  string
	err  error
}

// binaries returns the directory holding cairn-agent and cairn: BinDir
// when given, else a build of the module's commands (once per process).
func (c *Cluster) binaries() (string, error) {
	if c.cfg.BinDir != "" {
		return c.cfg.BinDir, nil
	}
	build.once.Do(func() {
		root, err := testenv.ModuleRoot()
		if err != nil {
			build.err = err
			return
		}
		sum := sha256.Sum256([]byte(root))
		build.dir = filepath.Join(os.TempDir(), "cairn-e2e-bin-"+hex.EncodeToString(sum[:6]))
		build.err = Build(root, build.dir)
	})
	return build.dir, build.err
}

// Build builds cairn and cairn-agent of the module at root into dir. The
// binaries are built aside and renamed into place, so processes of other
// test runs that still execute the old ones are not disturbed.
func Build(root, dir string) error {
	tmp := filepath.Join(dir, fmt.Sprintf(".build-%d", os.Getpid()))
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "build", "-o", tmp+"/", "./cmd/cairn", "./cmd/cairn-agent")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("localcluster: build the binaries: %w\n%s", err, out)
	}
	for _, b := range []string{"cairn", "cairn-agent"} {
		if err := os.Rename(filepath.Join(tmp, b), filepath.Join(dir, b)); err != nil {
			return err
		}
	}
	return nil
}
