//go:build unix

package fs

import (
	"context"
	"os"

	"golang.org/x/sys/unix"
)

// ReadRange maps the range read-only instead of copying it
// (blob.RangeReader): a restore reads every pack byte once, and the copy
// out of the page cache was a sixth of its CPU time. Pack files are never
// truncated in place (writers rename whole new files over names), so the
// mapping stays valid until released; if anything else truncates the file,
// touching the lost pages faults, which the caller recovers from. Where
// mapping fails the range is read into buf.
func (s *Store) ReadRange(ctx context.Context, name string, offset, length int64, buf []byte) ([]byte, func(), error) {
	if err := check(ctx, "get", name); err != nil {
		return nil, nil, err
	}
	data, release, err := mapRange(s.path(name), offset, length)
	if err != nil {
		return nil, nil, translate("get", name, err)
	}
	if data == nil {
		data, err = s.GetInto(ctx, name, offset, length, buf)
		return data, nil, err
	}
	return data, release, nil
}

// mapRange maps [offset, offset+length) of the file at p. It returns nil
// data and no error when the range is empty or the file cannot be mapped.
func mapRange(p string, offset, length int64) ([]byte, func(), error) {
	f, end, err := openRange(p, offset, length)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if end == offset {
		return nil, nil, nil
	}
	start := offset &^ int64(os.Getpagesize()-1)
	m, err := unix.Mmap(int(f.Fd()), start, int(end-start), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, nil, nil
	}
	return m[offset-start : end-start], func() { _ = unix.Munmap(m) }, nil
}
