package fsmeta

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// CreateSparse creates (or truncates) a regular file at path and sets its
// length to size without writing, so every range the restorer does not write
// stays a hole. The caller writes the extents with WriteAt. A symlink at path
// is an error rather than followed, so a hostile tree cannot make a restore
// write outside its target. perm is subject to the umask; SetMode fixes it.
func CreateSparse(path string, size int64, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW, perm)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Mknod creates a char device, block device or FIFO at path from m's Kind,
// Mode and Rdev. Sockets are refused: a socket only means something while
// the process that bound it is listening, so the restorer skips them.
// Without CAP_MKNOD, devices fail with an error wrapping ErrNotPermitted.
// The umask applies; SetMode sets the exact bits.
func Mknod(path string, m Meta) error {
	typ, ok := statModeType(m.Kind)
	if !ok {
		return fmt.Errorf("mknod %s: a %s is not created with mknod", path, m.Kind)
	}
	var dev int
	if m.Kind != KindFIFO {
		dev = int(m.Rdev)
	}
	err := unix.Mknod(path, typ|m.Mode&0o7777, dev)
	if errors.Is(err, unix.EPERM) {
		return notPermitted("mknod "+path, err)
	}
	if err != nil {
		return &fs.PathError{Op: "mknod", Path: path, Err: err}
	}
	return nil
}

// SetOwner changes the owner of path itself (a symlink's own, via lchown,
// which behaves as chown on everything else). Call it before SetMode: chown
// clears setuid and setgid. Without root it fails with an error wrapping
// ErrNotPermitted, which a non-root restore may downgrade to a warning.
func SetOwner(path string, uid, gid uint32) error {
	err := unix.Lchown(path, int(uid), int(gid))
	// EINVAL is chown's answer for an ID outside the user namespace's map:
	// the same situation as EPERM for a restore that is not fully privileged.
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) {
		return notPermitted(fmt.Sprintf("lchown %s to %d:%d", path, uid, gid), err)
	}
	if err != nil {
		return &fs.PathError{Op: "lchown", Path: path, Err: err}
	}
	return nil
}

// SetMode sets the permission, setuid, setgid and sticky bits (mode &
// 07777) of path. Linux has no mode on symlinks, and chmod would change the
// link's target, so a symlink at path is an error and nothing changes.
func SetMode(path string, mode uint32) error {
	mode &= 0o7777
	err := unix.Fchmodat(unix.AT_FDCWD, path, mode, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.EOPNOTSUPP) {
		// Either path is a symlink, or the kernel predates fchmodat2 (6.6)
		// and cannot honour the flag at all. Tell the two apart.
		err = chmodNoFollow(path, mode)
	}
	if err != nil {
		return &fs.PathError{Op: "chmod", Path: path, Err: err}
	}
	return nil
}

func chmodNoFollow(path string, mode uint32) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return errors.New("is a symlink, whose mode cannot be set")
	}
	return unix.Chmod(path, mode)
}

// SetTimes sets the access and modification times of path itself, symlinks
// included, to the nanosecond. The change time cannot be set by anyone.
func SetTimes(path string, atimeNs, mtimeNs int64) error {
	ts := []unix.Timespec{unix.NsecToTimespec(atimeNs), unix.NsecToTimespec(mtimeNs)}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "utimensat", Path: path, Err: err}
	}
	return nil
}

// notPermitted wraps both the errno and ErrNotPermitted, so callers can test
// for either.
func notPermitted(what string, err error) error {
	return fmt.Errorf("%s: %w (%w)", what, err, ErrNotPermitted)
}
