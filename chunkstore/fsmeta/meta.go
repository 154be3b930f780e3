package fsmeta

import (
	"errors"
	"io/fs"
	"os"
)

// Meta is what a backup records about one entry besides its content.
type Meta struct {
	Kind Kind
	// Mode is st_mode & 07777: permissions plus setuid, setgid and sticky.
	Mode uint32
	UID  uint32
	GID  uint32
	// Size is the length in bytes: the content for files, the target length
	// for symlinks, filesystem-defined for directories.
	Size int64
	// Blocks is st_blocks, in 512-byte units whatever the filesystem block
	// size. It only serves MaybeSparse.
	Blocks  int64
	MtimeNs int64
	AtimeNs int64
	CtimeNs int64
	Inode   uint64
	Dev     uint64
	Nlink   uint64
	// Rdev is the raw device number of a char or block device.
	Rdev uint64
}

// LinkKey identifies an inode within one walk: two paths with equal keys are
// hard links to the same file.
type LinkKey struct {
	Dev   uint64
	Inode uint64
}

// LinkKey returns the key under which the archiver should remember m to
// detect hard links. ok is false when m cannot be a hard link to anything
// else: directories (whose Nlink counts subdirectories) and entries with a
// single link, which keeps the archiver's map small on ordinary trees.
func (m Meta) LinkKey() (key LinkKey, ok bool) {
	if m.Kind == KindDir || m.Kind == KindUnknown || m.Nlink <= 1 {
		return LinkKey{}, false
	}
	return LinkKey{Dev: m.Dev, Inode: m.Inode}, true
}

// MaybeSparse reports whether a regular file may have holes, judged by its
// allocated blocks. When it returns false the file is dense (or compressed,
// or has metadata blocks that hide a small hole) and the archiver may read
// it as one extent without asking DataExtents; missing a hole that way only
// costs space in the restored file, never content.
func (m Meta) MaybeSparse() bool {
	return m.Kind == KindFile && m.Size > 0 && m.Blocks*512 < m.Size
}

// Sentinels for failures a restorer may reasonably downgrade to a warning.
var (
	// ErrXattrUnsupported: the target filesystem (or the namespace of the
	// name, such as trusted. on some filesystems) does not store xattrs.
	ErrXattrUnsupported = errors.New("extended attributes not supported by the filesystem")
	// ErrNotPermitted: the caller lacks the privilege, typically chown
	// without root or outside the user namespace's ID map.
	ErrNotPermitted = errors.New("insufficient privilege")
)

// Xattr is one extended attribute. Value may be empty; an empty value is a
// real attribute and is restored as one.
type Xattr struct {
	Name  string
	Value []byte
}

// Extent is a byte range [Offset, Offset+Length) of a file that holds data.
type Extent struct {
	Offset int64
	Length int64
}

// FromFileInfo converts fi, as returned by os.Lstat or fs.DirEntry.Info,
// without another syscall. ok is true when fi carried the OS stat record and
// every field is filled. Otherwise (a FileInfo from a fake or from another
// platform) only Kind, Mode, Size and MtimeNs are set, and Kind may be
// KindUnknown.
func FromFileInfo(fi fs.FileInfo) (Meta, bool) {
	if m, ok := fromSys(fi.Sys()); ok {
		return m, true
	}
	return Meta{
		Kind:    kindFromFileMode(fi.Mode()),
		Mode:    modeBits(fi.Mode()),
		Size:    fi.Size(),
		MtimeNs: fi.ModTime().UnixNano(),
	}, false
}

// modeBits turns Go's portable mode into st_mode's low twelve bits.
func modeBits(m fs.FileMode) uint32 {
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return bits
}

// ReadLink returns the target of the symlink at path, byte for byte.
func ReadLink(path string) (string, error) {
	return os.Readlink(path)
}

// Symlink creates a symlink at path pointing to target. The target is stored
// as given, never resolved: a restored link must dangle if the original did.
func Symlink(target, path string) error {
	return os.Symlink(target, path)
}

// Link makes path another name for the existing file at existing. It does not
// follow a symlink at existing, so a hard link to a symlink is restored as
// such.
func Link(existing, path string) error {
	return os.Link(existing, path)
}
