package blob

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Every error a Store returns wraps at most one of these.
var (
	// ErrNotFound: the named object does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrLocationMissing: the bucket or directory that holds the repository
	// does not exist.
	ErrLocationMissing = errors.New("repository location does not exist")
	// ErrPermission: the credentials were refused or lack a permission.
	ErrPermission = errors.New("permission denied")
	// ErrNoSpace: the backend is out of space or quota.
	ErrNoSpace = errors.New("no space left")
	// ErrTransient: a failure that may succeed if retried (timeouts, 5xx,
	// throttling, connection resets).
	ErrTransient = errors.New("transient backend error")
	// ErrUnavailable: the backend cannot be reached at all.
	ErrUnavailable = errors.New("backend unreachable")
	// ErrRange: a Get asked for bytes past the end of the object.
	ErrRange = errors.New("range outside object")
)

// Info describes a stored object.
type Info struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// Store is the repository's view of a storage backend. See the package
// documentation for the contract.
type Store interface {
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string, offset, length int64) ([]byte, error)
	Stat(ctx context.Context, name string) (Info, error)
	List(ctx context.Context, prefix string, fn func(Info) error) error
	Delete(ctx context.Context, name string) error
	// Location describes the backend for messages, without credentials.
	Location() string
	Close() error
}

// BufferGetter is implemented by stores that can read a range into the
// caller's buffer, so that a reader pulling many packs reuses one buffer
// instead of allocating (and zeroing) a new one per read.
type BufferGetter interface {
	// GetInto is Get, with the bytes written to buf[:0] when it has room
	// and to a new slice otherwise. length must be >= 0.
	GetInto(ctx context.Context, name string, offset, length int64, buf []byte) ([]byte, error)
}

// GetInto reads a range of length >= 0 bytes into buf when s supports it,
// and falls back to Get otherwise.
func GetInto(ctx context.Context, s Store, name string, offset, length int64, buf []byte) ([]byte, error) {
	if g, ok := s.(BufferGetter); ok && length >= 0 {
		return g.GetInto(ctx, name, offset, length, buf)
	}
	return s.Get(ctx, name, offset, length)
}

// SizedBuffer returns buf[:n] when buf has room for n bytes and a new slice
// of n bytes otherwise.
func SizedBuffer(buf []byte, n int64) []byte {
	if int64(cap(buf)) >= n {
		return buf[:n]
	}
	return make([]byte, n)
}

// RangeReader is implemented by stores that can hand out a range of an
// object without copying it, such as a local directory mapping the file.
// Mapped bytes come with a release func, are valid until it is called and
// must not be written. Where mapping is not possible an implementation
// reads into buf as GetInto does and returns a nil release: the bytes are
// then the caller's, to keep as its next buf.
type RangeReader interface {
	ReadRange(ctx context.Context, name string, offset, length int64, buf []byte) (data []byte, release func(), err error)
}

// ReadRange returns length >= 0 bytes of an object without a copy when s
// supports it, with a release func to call once they are no longer used,
// and reads them into buf with a nil release otherwise. A mapped range
// faults if the object is truncated under it: callers run with
// debug.SetPanicOnFault and recover.
func ReadRange(ctx context.Context, s Store, name string, offset, length int64, buf []byte) ([]byte, func(), error) {
	if r, ok := s.(RangeReader); ok && length >= 0 {
		return r.ReadRange(ctx, name, offset, length, buf)
	}
	data, err := GetInto(ctx, s, name, offset, length, buf)
	return data, nil, err
}
