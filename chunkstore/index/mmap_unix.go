//go:build unix

package index

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps f read-only. Pages are read on first touch, so opening a
// segment costs nothing per entry and only the pages lookups touch are
// resident.
func mapFile(f *os.File, size int64) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
}

func unmapFile(b []byte) error { return unix.Munmap(b) }
