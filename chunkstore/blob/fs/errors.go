package fs

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

// errNotDir is ENOTDIR: a path element that should be a directory is a file.
var errNotDir = syscall.ENOTDIR

// sentinels lists every blob sentinel, so translate can leave an error that
// already carries one (a range error, a vanished root) as it is.
var sentinels = []error{
	blob.ErrNotFound, blob.ErrLocationMissing, blob.ErrPermission, blob.ErrNoSpace,
	blob.ErrTransient, blob.ErrUnavailable, blob.ErrRange,
}

// translate is the one place where syscall errors become blob sentinels. The
// result reads "fs <op> <name>: <sentinel>: <cause>" and matches both the
// sentinel and the original cause with errors.Is.
func translate(op, name string, err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return fmt.Errorf("fs %s %s: %w", op, name, err)
		}
	}
	var sentinel error
	switch {
	case errors.Is(err, syscall.ENOENT):
		sentinel = blob.ErrNotFound
	case errors.Is(err, syscall.ENOTDIR) && op != "put":
		// Reading "a/b" where "a" is a file: there is no such object. For a
		// Put it is a layout conflict, which no sentinel describes.
		sentinel = blob.ErrNotFound
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EROFS):
		sentinel = blob.ErrPermission
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		sentinel = blob.ErrNoSpace
	}
	if sentinel == nil {
		return fmt.Errorf("fs %s %s: %w", op, name, err)
	}
	return fmt.Errorf("fs %s %s: %w: %w", op, name, sentinel, err)
}
