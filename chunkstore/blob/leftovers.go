package blob

import (
	"context"
	"time"
)

// Leftover is a partial write that a process which died mid-Put left
// behind: a temporary file of a local directory, an incomplete multipart
// upload on S3. It is not an object: List never shows it and nothing reads
// it, but it takes space until it is removed.
type Leftover struct {
	Name    string // the object name it was meant to become
	Size    int64
	ModTime time.Time
	// Handle identifies the leftover to its store (a temporary file's
	// name, an upload ID).
	Handle string
}

// LeftoverCleaner is implemented by stores whose interrupted Puts can
// leave partial writes behind.
type LeftoverCleaner interface {
	// Leftovers calls fn for every partial write, in no promised order.
	Leftovers(ctx context.Context, fn func(Leftover) error) error
	// RemoveLeftover removes one; one already gone is not an error, since
	// its Put may have completed meanwhile.
	RemoveLeftover(ctx context.Context, l Leftover) error
}

// Leftovers lists the partial writes of s, or none if s keeps none apart.
func Leftovers(ctx context.Context, s Store, fn func(Leftover) error) error {
	if c, ok := s.(LeftoverCleaner); ok {
		return c.Leftovers(ctx, fn)
	}
	return nil
}

// RemoveLeftover removes a partial write that Leftovers reported.
func RemoveLeftover(ctx context.Context, s Store, l Leftover) error {
	if c, ok := s.(LeftoverCleaner); ok {
		return c.RemoveLeftover(ctx, l)
	}
	return nil
}
