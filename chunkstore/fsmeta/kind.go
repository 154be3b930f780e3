package fsmeta

import (
	"fmt"
	"io/fs"
)

// Kind is the type of a file-system entry. The zero value is KindUnknown so
// that a Meta nobody filled in cannot pass for a regular file.
type Kind uint8

// The entry kinds. Their numeric values are not a format: serialise Kind with
// String and read it back with ParseKind.
const (
	KindUnknown Kind = iota
	KindFile
	KindDir
	KindSymlink
	KindCharDev
	KindBlockDev
	KindFIFO
	KindSocket
)

var kindNames = [...]string{
	KindFile:     "file",
	KindDir:      "dir",
	KindSymlink:  "symlink",
	KindCharDev:  "chardev",
	KindBlockDev: "blockdev",
	KindFIFO:     "fifo",
	KindSocket:   "socket",
}

// String returns the stable name of k ("file", "dir", ...).
func (k Kind) String() string {
	if k != KindUnknown && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind is the inverse of String. Unknown names are an error, never
// KindUnknown, so a corrupt tree entry cannot be restored as something else.
func ParseKind(s string) (Kind, error) {
	for k, name := range kindNames {
		if name != "" && name == s {
			return Kind(k), nil
		}
	}
	return KindUnknown, fmt.Errorf("fsmeta: unknown kind %q", s)
}

// kindFromFileMode maps the portable type bits of an fs.FileMode.
func kindFromFileMode(m fs.FileMode) Kind {
	switch t := m.Type(); {
	case t == 0:
		return KindFile
	case t&fs.ModeDir != 0:
		return KindDir
	case t&fs.ModeSymlink != 0:
		return KindSymlink
	case t&fs.ModeNamedPipe != 0:
		return KindFIFO
	case t&fs.ModeSocket != 0:
		return KindSocket
	case t&fs.ModeCharDevice != 0:
		return KindCharDev
	case t&fs.ModeDevice != 0:
		return KindBlockDev
	}
	return KindUnknown
}
