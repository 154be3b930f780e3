package contract

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

// errInvalidName is deliberately not a blob sentinel: a bad name is a
// programming error in the caller, never something to retry or report as a
// backend condition.
var errInvalidName = errors.New("invalid object name")

// CheckName enforces the naming rule of the blob contract: slash-separated,
// relative, no empty, "." or ".." elements. The fs backend depends on this to
// keep every object inside its root directory.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", errInvalidName)
	}
	if strings.ContainsRune(name, 0) {
		return fmt.Errorf("%w %q: contains a NUL byte", errInvalidName, name)
	}
	if strings.HasPrefix(name, "/") {
		return fmt.Errorf("%w %q: must be relative", errInvalidName, name)
	}
	for elem := range strings.SplitSeq(name, "/") {
		switch elem {
		case "":
			return fmt.Errorf("%w %q: empty path element", errInvalidName, name)
		case ".", "..":
			return fmt.Errorf("%w %q: %q path element", errInvalidName, name, elem)
		}
	}
	return nil
}

// CheckPrefix accepts "" (everything), a name, a name followed by "/", or a
// partial last element such as "data/a".
func CheckPrefix(prefix string) error {
	trimmed := strings.TrimSuffix(prefix, "/")
	if trimmed == "" {
		if prefix != "" {
			return fmt.Errorf("%w: prefix %q", errInvalidName, prefix)
		}
		return nil
	}
	if err := CheckName(trimmed); err != nil {
		return fmt.Errorf("list prefix: %w", err)
	}
	return nil
}

// Range resolves a Get range against an object of the given size and returns
// the end offset (exclusive). length < 0 means "to the end"; a range that
// starts at size is valid and empty; anything reaching past size wraps
// blob.ErrRange.
func Range(offset, length, size int64) (end int64, err error) {
	switch {
	case offset < 0:
		return 0, fmt.Errorf("%w: negative offset %d", blob.ErrRange, offset)
	case offset > size:
		return 0, fmt.Errorf("%w: offset %d past end of %d-byte object", blob.ErrRange, offset, size)
	case length < 0:
		return size, nil
	case length > size-offset:
		return 0, fmt.Errorf("%w: %d bytes at offset %d past end of %d-byte object", blob.ErrRange, length, offset, size)
	}
	return offset + length, nil
}
