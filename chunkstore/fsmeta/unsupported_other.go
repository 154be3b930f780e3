//go:build !linux

package fsmeta

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// Only Linux is implemented. Elsewhere the package compiles so that tools
// which import chunkstore build, and every OS-facing call says so rather
// than returning metadata with owners or xattrs silently missing.
var errOS = fmt.Errorf("fsmeta is not implemented on %s: %w", runtime.GOOS, errors.ErrUnsupported)

func Lstat(path string) (Meta, error) {
	return Meta{}, &fs.PathError{Op: "lstat", Path: path, Err: errOS}
}

func fromSys(any) (Meta, bool) { return Meta{}, false }

// OpenSource opens a file to back it up.
func OpenSource(path string) (*os.File, error) { return os.Open(path) }

func ListXattrs(path string) ([]Xattr, error) {
	return nil, &fs.PathError{Op: "listxattr", Path: path, Err: errOS}
}

func SetXattrs(path string, xs []Xattr) error {
	if len(xs) == 0 {
		return nil
	}
	return fmt.Errorf("set xattrs on %s: %w: %w", path, ErrXattrUnsupported, errOS)
}

// DataExtents treats the file as dense: always correct, only not sparse.
func DataExtents(f *os.File, size int64) ([]Extent, error) {
	if size <= 0 {
		return nil, nil
	}
	return []Extent{{Offset: 0, Length: size}}, nil
}

func CreateSparse(path string, size int64, perm fs.FileMode) (*os.File, error) {
	return nil, &fs.PathError{Op: "create", Path: path, Err: errOS}
}

func Mknod(path string, m Meta) error {
	return &fs.PathError{Op: "mknod", Path: path, Err: errOS}
}

func SetOwner(path string, uid, gid uint32) error {
	return &fs.PathError{Op: "lchown", Path: path, Err: errOS}
}

func SetMode(path string, mode uint32) error {
	return &fs.PathError{Op: "chmod", Path: path, Err: errOS}
}

func SetTimes(path string, atimeNs, mtimeNs int64) error {
	return &fs.PathError{Op: "utimensat", Path: path, Err: errOS}
}
