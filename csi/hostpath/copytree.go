package hostpath

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// copyTree copies the directory src to dst (which must not exist) as a
// snapshot should: regular files sparsely, symlinks as links, devices,
// FIFOs and sockets as nodes, hard links as hard links, and for every
// entry its owner, mode, extended attributes and times. It does not cross
// into other file systems mounted below src, which is what a volume's
// snapshot would not see either.
func copyTree(src, dst string) error {
	var root unix.Stat_t
	if err := unix.Lstat(src, &root); err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	c := treeCopier{dev: root.Dev, links: map[inodeKey]string{}}
	if err := c.copyEntry(src, dst, &root); err != nil {
		return fmt.Errorf("copy tree %s to %s: %w", src, dst, err)
	}
	return nil
}

type inodeKey struct{ dev, ino uint64 }

type treeCopier struct {
	dev   uint64
	links map[inodeKey]string // first copy of each multiply-linked inode
}

func (c *treeCopier) copyEntry(src, dst string, st *unix.Stat_t) error {
	if st.Mode&unix.S_IFMT != unix.S_IFDIR && st.Nlink > 1 {
		key := inodeKey{st.Dev, st.Ino}
		if first, ok := c.links[key]; ok {
			return os.Link(first, dst)
		}
		c.links[key] = dst
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		err = c.copyDir(src, dst, st)
	case unix.S_IFREG:
		err = copyRegular(src, dst)
	case unix.S_IFLNK:
		var target string
		if target, err = os.Readlink(src); err == nil {
			err = os.Symlink(target, dst)
		}
	default: // char and block devices, FIFOs, sockets
		err = unix.Mknod(dst, st.Mode, int(st.Rdev))
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	// Directories set their metadata after their children, so the
	// children's creation does not move the directory's mtime.
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return nil
	}
	return copyMetadata(src, dst, st)
}

func (c *treeCopier) copyDir(src, dst string, st *unix.Stat_t) error {
	if err := os.Mkdir(dst, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		s, t := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		var est unix.Stat_t
		err := unix.Lstat(s, &est)
		if errors.Is(err, unix.ENOENT) {
			continue // removed since ReadDir: it is not in the copy
		}
		if err != nil {
			return fmt.Errorf("stat %s: %w", s, err)
		}
		if est.Dev != c.dev {
			continue // a mount point inside the volume: not the volume's data
		}
		if err := c.copyEntry(s, t, &est); err != nil {
			if errors.Is(err, unix.ENOENT) && vanished(s) {
				os.RemoveAll(t)
				continue
			}
			return err
		}
	}
	return copyMetadata(src, dst, st)
}

// vanished reports whether a source entry was removed while it was being
// copied: a volume written during a snapshot loses entries, which is a
// race to skip, not a failure.
func vanished(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, os.ErrNotExist)
}

func copyRegular(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	err = copySparse(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyMetadata gives dst the owner, mode, xattrs and times of src. The
// order matters: chown clears set-id bits, so chmod follows it, and times
// come last because setting xattrs changes nothing that utimes sets but
// writing would.
func copyMetadata(src, dst string, st *unix.Stat_t) error {
	isLink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dst, err)
	}
	if !isLink { // Linux has no lchmod; a symlink's mode is always 0777
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return fmt.Errorf("chmod %s: %w", dst, err)
		}
	}
	if err := copyXattrs(src, dst); err != nil {
		return err
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", dst, err)
	}
	return nil
}

func copyXattrs(src, dst string) error {
	names, err := listXattrs(src)
	if err != nil {
		return err
	}
	for _, name := range names {
		val, err := getXattr(src, name)
		if err != nil {
			return err
		}
		if err := unix.Lsetxattr(dst, name, val, 0); err != nil {
			return fmt.Errorf("set xattr %s on %s: %w", name, dst, err)
		}
	}
	return nil
}

func listXattrs(path string) ([]string, error) {
	buf, err := growRead(func(b []byte) (int, error) { return unix.Llistxattr(path, b) })
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list xattrs of %s: %w", path, err)
	}
	var names []string
	for _, n := range bytes.Split(buf, []byte{0}) {
		if len(n) > 0 {
			names = append(names, string(n))
		}
	}
	return names, nil
}

func getXattr(path, name string) ([]byte, error) {
	val, err := growRead(func(b []byte) (int, error) { return unix.Lgetxattr(path, name, b) })
	if err != nil {
		return nil, fmt.Errorf("get xattr %s of %s: %w", name, path, err)
	}
	return val, nil
}

// growRead calls a size-probing syscall (size 0 first) until the buffer
// holds the answer; ERANGE means it grew in between.
func growRead(call func([]byte) (int, error)) ([]byte, error) {
	for {
		n, err := call(nil)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, nil
		}
		buf := make([]byte, n)
		n, err = call(buf)
		if errors.Is(err, unix.ERANGE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}
