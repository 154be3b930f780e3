//go:build unix

package repo

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockCache takes the cache directory's build lock, which one process at a
// time holds while it writes segments. With wait false it returns a nil
// unlock, and no error, when another process holds it.
func lockCache(dir string, wait bool) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "build.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("index cache: lock: %w", err)
	}
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if !wait && err == unix.EWOULDBLOCK {
			return nil, nil
		}
		return nil, fmt.Errorf("index cache: lock: %w", err)
	}
	return func() { f.Close() }, nil
}
