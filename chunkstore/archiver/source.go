package archiver

import (
	"fmt"
	"os"
)

// CheckBlockSource makes sure the path given to a block backup is a regular
// file or a block device. Anything else has no meaningful size: Seek to the
// end of a directory returns 2^63-1, which once made the backup plan
// exabytes of segments and die of memory exhaustion, and a character
// device such as /dev/zero never ends. Symlinks are followed, as device
// names under /dev/disk/by-id are links.
func CheckBlockSource(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("backup --block: %w", err)
	}
	m := fi.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m&os.ModeDevice != 0 && m&os.ModeCharDevice == 0:
		return nil
	case m.IsDir():
		return fmt.Errorf("backup --block %s: it is a directory; --block takes one block device or image file (back up a directory without --block)", path)
	}
	return fmt.Errorf("backup --block %s: it is a %s, not a block device or regular file; --block takes one block device or image file", path, describeMode(m))
}

func describeMode(m os.FileMode) string {
	switch {
	case m&os.ModeCharDevice != 0:
		return "character device"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}
