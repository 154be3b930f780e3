package hostpath

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// bindMount binds src onto dst (an existing directory, or file for raw
// block). A read-only bind needs a second, remounting call: Linux ignores
// MS_RDONLY on the bind itself. If that fails the bind is undone, so a
// request for read-only never leaves a writable mount.
func bindMount(src, dst string, readOnly bool) error {
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount %s on %s: %w", src, dst, err)
	}
	if !readOnly {
		return nil
	}
	if err := unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		unix.Unmount(dst, 0)
		return fmt.Errorf("remount %s read-only: %w", dst, err)
	}
	return nil
}

// unmountAll removes every mount stacked on path (a crash between a mount
// and its record can leave two); a path that is not mounted is fine.
func unmountAll(path string) error {
	for range 8 {
		mounted, err := isMountPoint(path)
		if err != nil || !mounted {
			return err
		}
		if err := unix.Unmount(path, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", path, err)
		}
	}
	return fmt.Errorf("unmount %s: still mounted after 8 unmounts", path)
}

// isMountPoint reports whether path is a mount point, by the kernel's
// mount table: comparing device numbers cannot see bind mounts within one
// file system, which is all this driver makes.
func isMountPoint(path string) (bool, error) {
	real, err := filepath.EvalSymlinks(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("resolve %s: %w", path, err)
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMountPath(fields[4]) == real {
			return true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("read mount table: %w", err)
	}
	return false, nil
}

// unescapeMountPath undoes the octal escapes (\040 for space, ...) that
// /proc/self/mountinfo uses for whitespace and backslashes.
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// makeTarget creates a publication target: a directory for a filesystem
// volume, an empty file for raw block (the device is bound onto it). It
// reports whether it created the target, so a failed publish removes only
// what it made.
func makeTarget(path string, kind accessKind) (created bool, err error) {
	if _, err := os.Lstat(path); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return false, fmt.Errorf("create parent of %s: %w", path, err)
	}
	if kind == kindFilesystem {
		if err := os.Mkdir(path, 0o750); err != nil {
			return false, fmt.Errorf("create target directory %s: %w", path, err)
		}
		return true, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o660)
	if err != nil {
		return false, fmt.Errorf("create target file %s: %w", path, err)
	}
	return true, f.Close()
}

// removeTarget deletes an unmounted target (directory or file); the spec
// makes NodeUnpublishVolume remove what NodePublishVolume created.
func removeTarget(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove target %s: %w", path, err)
	}
	return nil
}
