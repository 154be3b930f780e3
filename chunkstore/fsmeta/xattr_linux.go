package fsmeta

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// xattrSys holds the syscalls behind ListXattrs. It is a seam so tests can
// count calls (the no-xattr case must be one) and inject ERANGE races.
type xattrSys struct {
	list func(path string, dest []byte) (int, error)
	get  func(path, name string, dest []byte) (int, error)
}

var osXattr = xattrSys{list: unix.Llistxattr, get: unix.Lgetxattr}

const (
	// xattrBufSize covers the name list and the values of nearly every real
	// file (ACLs, SELinux labels, capabilities are tens of bytes), so the
	// common case never needs a size query. Larger lists grow on ERANGE.
	xattrBufSize = 1024
	// xattrMaxAttempts bounds the grow-and-retry loop against an attribute
	// that keeps growing while we read it.
	xattrMaxAttempts = 8
)

// xattrBufs recycles read buffers: ListXattrs runs once per file on the
// small-files path, and the buffer cannot live on the stack because it
// passes through the xattrSys function values.
var xattrBufs = sync.Pool{New: func() any {
	b := make([]byte, xattrBufSize)
	return &b
}}

// ListXattrs returns the extended attributes of path itself (a symlink's own,
// not its target's), sorted by name. A filesystem without xattr support
// yields nil, nil. An attribute removed between listing and reading is left
// out: it no longer exists, so there is nothing to record.
func ListXattrs(path string) ([]Xattr, error) {
	return osXattr.listAll(path)
}

func (s xattrSys) listAll(path string) ([]Xattr, error) {
	bp := xattrBufs.Get().(*[]byte)
	defer xattrBufs.Put(bp)
	list, err := readGrowing(*bp, func(b []byte) (int, error) { return s.list(path, b) })
	if err != nil {
		if isNotSupported(err) {
			return nil, nil
		}
		return nil, &fs.PathError{Op: "llistxattr", Path: path, Err: err}
	}
	if len(list) == 0 {
		return nil, nil
	}
	names := splitNames(string(list))
	slices.Sort(names)
	xs := make([]Xattr, 0, len(names))
	for _, name := range names {
		v, err := readGrowing(*bp, func(b []byte) (int, error) { return s.get(path, name, b) })
		if errors.Is(err, unix.ENODATA) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get xattr %q of %s: %w", name, path, err)
		}
		xs = append(xs, Xattr{Name: name, Value: slices.Clone(v)})
	}
	if len(xs) == 0 {
		return nil, nil // all vanished: same answer as none
	}
	return xs, nil
}

// readGrowing calls read with buf and returns the bytes it filled. On ERANGE
// it asks for the needed size (read with an empty buffer) and retries with a
// fresh buffer, since the attribute may have changed between the two calls.
// The result aliases buf or the grown buffer; callers copy what they keep.
func readGrowing(buf []byte, read func([]byte) (int, error)) ([]byte, error) {
	for range xattrMaxAttempts {
		n, err := read(buf)
		if err == nil {
			return buf[:n], nil
		}
		if !errors.Is(err, unix.ERANGE) {
			return nil, err
		}
		need, err := read(nil)
		if err != nil {
			return nil, err
		}
		buf = make([]byte, max(need, 2*len(buf)))
	}
	return nil, unix.ERANGE
}

// splitNames splits the kernel's NUL-terminated name list. The names are
// substrings of one string: one allocation however many there are.
func splitNames(list string) []string {
	names := make([]string, 0, strings.Count(list, "\x00"))
	for list != "" {
		name, rest, _ := strings.Cut(list, "\x00")
		if name != "" {
			names = append(names, name)
		}
		list = rest
	}
	return names
}

// SetXattrs sets each attribute on path itself, creating or replacing it. It
// does not remove attributes that are absent from xs. It tries every
// attribute before returning, so one refused name does not cost the others.
//
// If every failure was the filesystem refusing the name's namespace, the
// error wraps ErrXattrUnsupported and a restorer may warn and go on. Any
// other failure (EPERM on a symlink's user. attribute, ENOSPC, E2BIG...) is
// returned without that sentinel, joined with the rest.
func SetXattrs(path string, xs []Xattr) error {
	var failed []error
	var unsupported []string
	for _, x := range xs {
		err := unix.Lsetxattr(path, x.Name, x.Value, 0)
		switch {
		case err == nil:
		case isNotSupported(err):
			unsupported = append(unsupported, x.Name)
		default:
			failed = append(failed, fmt.Errorf("set xattr %q on %s: %w", x.Name, path, err))
		}
	}
	if len(unsupported) == 0 {
		return errors.Join(failed...)
	}
	if len(failed) == 0 {
		return fmt.Errorf("set xattrs %q on %s: %w", unsupported, path, ErrXattrUnsupported)
	}
	// %v, not %w: the sentinel must not let a caller downgrade real failures.
	failed = append(failed, fmt.Errorf("set xattrs %q on %s: %v", unsupported, path, ErrXattrUnsupported))
	return errors.Join(failed...)
}

func isNotSupported(err error) bool {
	return errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP)
}
