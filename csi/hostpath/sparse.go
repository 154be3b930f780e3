package hostpath

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyImage copies a block image, keeping its holes, and fsyncs the copy.
// It first asks the file system for a reflink (FICLONE: instant and
// space-free on XFS and Btrfs) and otherwise copies only the data extents
// that SEEK_DATA/SEEK_HOLE report, so a 10 GiB image holding 1 MiB costs
// 1 MiB. The copy is then grown to size if that is larger.
func copyImage(src, dst string, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open image %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o660)
	if err != nil {
		return fmt.Errorf("create image %s: %w", dst, err)
	}
	err = copySparse(out, in)
	if err == nil && size > 0 {
		err = growTo(out, size)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy image %s to %s: %w", src, dst, err)
	}
	return nil
}

func growTo(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < size {
		return f.Truncate(size)
	}
	return nil
}

// copySparse copies in to the empty file out, preserving holes.
func copySparse(out, in *os.File) error {
	if err := unix.IoctlFileClone(int(out.Fd()), int(in.Fd())); err == nil {
		return nil
	}
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if err := out.Truncate(size); err != nil {
		return err
	}
	return forEachExtent(in, size, func(off, end int64) error {
		return copyRange(out, in, off, end)
	})
}

// forEachExtent calls fn for each data extent [off, end) of f, in order.
// File systems without SEEK_DATA report the whole file as one extent.
func forEachExtent(f *os.File, size int64, fn func(off, end int64) error) error {
	fd := int(f.Fd())
	for off := int64(0); off < size; {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return nil // only a hole remains
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			return fn(off, size)
		}
		if err != nil {
			return fmt.Errorf("seek data at %d: %w", off, err)
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("seek hole at %d: %w", data, err)
		}
		hole = min(hole, size)
		if err := fn(data, hole); err != nil {
			return err
		}
		off = hole
	}
	return nil
}

// copyRange copies [off, end) between the same offsets of two files, in
// the kernel where it can (copy_file_range), else through a buffer.
func copyRange(out, in *os.File, off, end int64) error {
	for off < end {
		roff, woff := off, off
		n, err := unix.CopyFileRange(int(in.Fd()), &roff, int(out.Fd()), &woff, int(min(end-off, 1<<30)), 0)
		if err != nil {
			if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
				return copyRangeBuffered(out, in, off, end)
			}
			return fmt.Errorf("copy bytes %d-%d: %w", off, end, err)
		}
		if n == 0 {
			return fmt.Errorf("copy bytes %d-%d: source ended early", off, end)
		}
		off += int64(n)
	}
	return nil
}

func copyRangeBuffered(out, in *os.File, off, end int64) error {
	w := io.NewOffsetWriter(out, off)
	if _, err := io.Copy(w, io.NewSectionReader(in, off, end-off)); err != nil {
		return fmt.Errorf("copy bytes %d-%d: %w", off, end, err)
	}
	return nil
}

// syncFS flushes the whole file system holding path: one syncfs(2) makes a
// copied tree durable far faster than an fsync per file.
func syncFS(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s for syncfs: %w", path, err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", path, err)
	}
	return nil
}
