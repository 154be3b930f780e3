package fsmeta

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Lstat returns the metadata of path without following a symlink: one
// fstatat syscall, and no allocation beyond the kernel's copy of the path.
//
// It uses the syscall package's Stat_t rather than x/sys's so that Lstat and
// FromFileInfo (whose Sys() is a *syscall.Stat_t) share one converter.
func Lstat(path string) (Meta, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return Meta{}, &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	return fromStat(&st), nil
}

func fromSys(sys any) (Meta, bool) {
	st, ok := sys.(*syscall.Stat_t)
	if !ok || st == nil {
		return Meta{}, false
	}
	return fromStat(st), true
}

// fromStat widens every field explicitly because their types differ between
// Linux architectures (Nlink is uint32 on arm64, Blksize int32 on 386...).
func fromStat(st *syscall.Stat_t) Meta {
	return Meta{
		Kind:    kindFromStatMode(uint32(st.Mode)),
		Mode:    uint32(st.Mode) & 0o7777,
		UID:     st.Uid,
		GID:     st.Gid,
		Size:    st.Size,
		Blocks:  int64(st.Blocks),
		MtimeNs: st.Mtim.Nano(),
		AtimeNs: st.Atim.Nano(),
		CtimeNs: st.Ctim.Nano(),
		Inode:   uint64(st.Ino),
		Dev:     uint64(st.Dev),
		Nlink:   uint64(st.Nlink),
		Rdev:    uint64(st.Rdev),
	}
}

func kindFromStatMode(mode uint32) Kind {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return KindFile
	case unix.S_IFDIR:
		return KindDir
	case unix.S_IFLNK:
		return KindSymlink
	case unix.S_IFCHR:
		return KindCharDev
	case unix.S_IFBLK:
		return KindBlockDev
	case unix.S_IFIFO:
		return KindFIFO
	case unix.S_IFSOCK:
		return KindSocket
	}
	return KindUnknown
}

// statModeType is kindFromStatMode's inverse, for mknod. ok is false for
// kinds mknod must not create.
func statModeType(k Kind) (uint32, bool) {
	switch k {
	case KindCharDev:
		return unix.S_IFCHR, true
	case KindBlockDev:
		return unix.S_IFBLK, true
	case KindFIFO:
		return unix.S_IFIFO, true
	}
	return 0, false
}

// OpenSource opens a file to back it up. It asks for O_NOATIME, so that
// reading every file does not also write every inode, and falls back to a
// plain open where that is not permitted (files of other users, without
// CAP_FOWNER). The descriptor is opened blocking and kept out of the
// runtime's poller, which would only try and fail to register a regular
// file on every open.
func OpenSource(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOATIME, 0)
	if err == unix.EPERM {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
