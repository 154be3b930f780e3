//go:build !unix

package repo

// lockCache has no file lock to take on this platform: one process at a
// time should use a cache directory.
func lockCache(dir string, wait bool) (unlock func(), err error) {
	return func() {}, nil
}
