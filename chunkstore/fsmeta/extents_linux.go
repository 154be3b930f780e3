package fsmeta

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// DataExtents returns the regions of f that hold data, in order, within
// [0, size). size is the length the caller saw in Lstat: a file that grows
// while it is read is cut there, one that shrinks ends early. Holes are left
// out; an all-hole file or size 0 gives no extents. On a filesystem that
// cannot report holes (lseek answers EINVAL) the whole file is one extent.
//
// It moves f's offset; read the extents with ReadAt.
func DataExtents(f *os.File, size int64) ([]Extent, error) {
	ext, err := dataExtents(f.Seek, size)
	if err != nil {
		return nil, fmt.Errorf("find data extents of %s: %w", f.Name(), err)
	}
	return ext, nil
}

// seekFunc is (*os.File).Seek; a parameter so tests can play filesystems that
// lack SEEK_DATA or misbehave.
type seekFunc func(offset int64, whence int) (int64, error)

func dataExtents(seek seekFunc, size int64) ([]Extent, error) {
	var ext []Extent
	for off := int64(0); off < size; {
		data, err := seek(off, unix.SEEK_DATA)
		switch {
		case errors.Is(err, unix.ENXIO):
			return ext, nil // no data at or past off: the rest is a hole
		case errors.Is(err, unix.EINVAL) && off == 0:
			return []Extent{{Offset: 0, Length: size}}, nil
		case err != nil:
			return nil, err
		}
		if data >= size {
			return ext, nil
		}
		hole, err := seek(data, unix.SEEK_HOLE)
		if errors.Is(err, unix.ENXIO) {
			return ext, nil // truncated under us
		}
		if err != nil {
			return nil, err
		}
		hole = min(hole, size)
		// A kernel answer that does not move forward would loop forever.
		if data < off || hole <= data {
			return nil, fmt.Errorf("lseek went backwards: data at %d, hole at %d, from %d", data, hole, off)
		}
		ext = append(ext, Extent{Offset: data, Length: hole - data})
		off = hole
	}
	return ext, nil
}
