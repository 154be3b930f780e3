package restorer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// imageTarget decides whether a block snapshot goes onto the target itself,
// as its help says it may: when the target is an existing regular file or
// block device. A missing target or a directory gets the image as a file
// inside it, like any snapshot.
func imageTarget(snap *snapshot.Snapshot, nodes []*snapshot.Node, target string) (string, bool, error) {
	if snap.Kind != snapshot.KindBlock {
		return "", false, nil
	}
	fi, err := os.Stat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("restore: %w", err)
	}
	m := fi.Mode()
	switch {
	case m.IsDir():
		return "", false, nil
	case !m.IsRegular() && (m&os.ModeDevice == 0 || m&os.ModeCharDevice != 0):
		return "", false, fmt.Errorf("restore: target %s is neither a directory, a regular file nor a block device", target)
	case len(nodes) != 1 || nodes[0].Type != snapshot.TypeFile:
		return "", false, fmt.Errorf("restore: the block snapshot does not hold exactly one image; restore it into a directory")
	}
	return target, true, nil
}

// planImage plans the image of a block snapshot onto a file or device.
func (rs *restore) planImage(ctx context.Context, path string, n *snapshot.Node, items map[core.ID]*item) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fo := &fileOut{path: path, node: n, device: !fi.Mode().IsRegular()}
	if err := rs.planContent(ctx, fo, items); err != nil {
		return err
	}
	if !fo.device {
		if err := createSized(path, n.Size); err != nil {
			return err
		}
		rs.metas = append(rs.metas, pending{path: path, node: n})
		return nil
	}
	return zeroHoles(path, n.Size, dataRanges(fo, items))
}

// span is a byte range [off, end) of a file.
type span struct{ off, end int64 }

// dataRanges returns the ranges of the file that planned chunks will write.
func dataRanges(fo *fileOut, items map[core.ID]*item) []span {
	var out []span
	for _, it := range items {
		for _, t := range it.targets {
			if t.file == fo {
				out = append(out, span{t.off, t.off + int64(it.loc.RawLength)})
			}
		}
	}
	slices.SortFunc(out, func(a, b span) int { return int(a.off - b.off) })
	return out
}

// zeroHoles zeroes a device everywhere in [0, size) that no chunk writes:
// unlike a new file, a device keeps its old bytes there. It refuses a
// device smaller than the image.
func zeroHoles(path string, size int64, data []span) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("restore image: %w", &fs.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	end, err := unix.Seek(fd, 0, 2)
	if err != nil {
		return fmt.Errorf("restore image: %w", &fs.PathError{Op: "seek", Path: path, Err: err})
	}
	if end < size {
		return fmt.Errorf("restore image: device %s holds %d bytes, the image %d; restore onto a device at least as large", path, end, size)
	}
	at := int64(0)
	for _, d := range append(data, span{size, size}) {
		if d.off > at {
			if err := zeroRange(fd, at, d.off-at); err != nil {
				return fmt.Errorf("restore image: %w", &fs.PathError{Op: "zero", Path: path, Err: err})
			}
		}
		at = max(at, d.end)
	}
	return nil
}

// zeroAt zeroes n bytes at off in the file or device at path.
func zeroAt(path string, off, n int64) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("restore image: %w", &fs.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	if err := zeroRange(fd, off, n); err != nil {
		return fmt.Errorf("restore image: %w", &fs.PathError{Op: "zero", Path: path, Err: err})
	}
	return nil
}

// zeroRange zeroes n bytes at off: with one fallocate where the device
// supports it (a discard or write-zeroes command), else by writing zeros.
func zeroRange(fd int, off, n int64) error {
	// Punching deallocates (a hole in a file; on a block device a zeroing
	// that may unmap, which keeps a thin volume thin); zeroing a range
	// keeps it allocated; writing zeros is the last resort.
	if unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n) == nil {
		return nil
	}
	if unix.Fallocate(fd, unix.FALLOC_FL_ZERO_RANGE|unix.FALLOC_FL_KEEP_SIZE, off, n) == nil {
		return nil
	}
	zeros := make([]byte, min(n, 1<<20))
	for n > 0 {
		w, err := unix.Pwrite(fd, zeros[:min(n, int64(len(zeros)))], off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		off, n = off+int64(w), n-int64(w)
	}
	return nil
}
