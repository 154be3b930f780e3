package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/internal/contract"
)

var _ blob.Store = (*Store)(nil)

const (
	// tempPrefix marks in-flight writes. The leading dot keeps them out of
	// casual `ls` output as well as out of List.
	tempPrefix = ".tmp-"
	// Repository contents are encrypted, but names and sizes still leak
	// information, so nothing is group- or world-readable.
	dirPerm = 0o700
)

// Options configures Open.
type Options struct {
	// Create makes the root directory, and its parents, when missing. Only
	// repository init sets it, so that a typo or an unmounted volume is
	// reported instead of being silently filled with a new repository.
	Create bool
}

// Store is a repository in a local directory.
type Store struct {
	root string
}

// Open returns a Store rooted at dir, which must exist unless opts.Create.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("fs open: empty directory path")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fs open %s: %w", dir, err)
	}
	if opts.Create {
		if err := os.MkdirAll(root, dirPerm); err != nil {
			return nil, translate("open", root, err)
		}
	}
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return nil, fmt.Errorf("fs open %s: %w: create it (init) or fix the path: %w",
			root, blob.ErrLocationMissing, err)
	case err != nil:
		return nil, translate("open", root, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("fs open %s: not a directory", root)
	}
	return &Store{root: root}, nil
}

// Put writes data to name atomically and durably.
func (s *Store) Put(ctx context.Context, name string, data []byte) error {
	if err := check(ctx, "put", name); err != nil {
		return err
	}
	if strings.HasPrefix(path.Base(name), tempPrefix) {
		return fmt.Errorf("fs put %s: names starting with %q are reserved for temporary files", name, tempPrefix)
	}
	if err := s.writeAtomic(s.path(name), data); err != nil {
		return translate("put", name, err)
	}
	return nil
}

func (s *Store) writeAtomic(final string, data []byte) (err error) {
	dir := filepath.Dir(final)
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if errors.Is(err, iofs.ErrNotExist) {
		if err := s.mkdirs(dir); err != nil {
			return err
		}
		f, err = os.CreateTemp(dir, tempPrefix+"*")
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return err
	}
	return syncDir(dir)
}

// mkdirs creates the directories between the root and dir, fsyncing each
// parent so a new directory entry is as durable as the file put into it. It
// never creates the root itself.
func (s *Store) mkdirs(dir string) error {
	rel, err := filepath.Rel(s.root, dir)
	if err != nil {
		return err
	}
	cur := s.root
	for elem := range strings.SplitSeq(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, elem)
		err := os.Mkdir(next, dirPerm)
		switch {
		case err == nil:
			if err := syncDir(cur); err != nil {
				return err
			}
		case errors.Is(err, iofs.ErrExist):
			// Made earlier, or by a concurrent Put into the same directory.
		case cur == s.root && errors.Is(err, iofs.ErrNotExist):
			return fmt.Errorf("%w: root directory %s is gone: %w", blob.ErrLocationMissing, s.root, err)
		default:
			return err
		}
		cur = next
	}
	return nil
}

// Get reads a range with pread, so concurrent Gets share no file offset.
func (s *Store) Get(ctx context.Context, name string, offset, length int64) ([]byte, error) {
	return s.GetInto(ctx, name, offset, length, nil)
}

// GetInto is Get reading into buf when it has room (blob.BufferGetter).
func (s *Store) GetInto(ctx context.Context, name string, offset, length int64, buf []byte) ([]byte, error) {
	if err := check(ctx, "get", name); err != nil {
		return nil, err
	}
	data, err := s.readRange(s.path(name), offset, length, buf)
	if err != nil {
		return nil, translate("get", name, err)
	}
	return data, nil
}

func (s *Store) readRange(p string, offset, length int64, buf []byte) ([]byte, error) {
	f, end, err := openRange(p, offset, length)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf = blob.SizedBuffer(buf, end-offset)
	// The open descriptor pins the inode, and writers only ever rename a new
	// inode over the name, so a short read here means outside interference.
	if n, err := f.ReadAt(buf, offset); n < len(buf) {
		return nil, fmt.Errorf("read %s: got %d of %d bytes: %w", p, n, len(buf), err)
	}
	return buf, nil
}

// openRange opens the object file at p and checks that the range fits it,
// returning where the range ends.
func openRange(p string, offset, length int64) (*os.File, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notObject(p)
	}
	var end int64
	if err == nil {
		end, err = contract.Range(offset, length, fi.Size())
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, end, nil
}

// Stat reports the object's size and modification time.
func (s *Store) Stat(ctx context.Context, name string) (blob.Info, error) {
	if err := check(ctx, "stat", name); err != nil {
		return blob.Info{}, err
	}
	p := s.path(name)
	fi, err := os.Stat(p)
	if err == nil && !fi.Mode().IsRegular() {
		err = notObject(p)
	}
	if err != nil {
		return blob.Info{}, translate("stat", name, err)
	}
	return blob.Info{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete removes the object; its directory stays, as an empty directory
// costs nothing and removing it would race with a concurrent Put.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := check(ctx, "delete", name); err != nil {
		return err
	}
	p := s.path(name)
	fi, err := os.Lstat(p)
	if err == nil && fi.IsDir() {
		err = notObject(p)
	}
	if err == nil {
		err = os.Remove(p)
	}
	if err == nil {
		err = syncDir(filepath.Dir(p))
	}
	if err != nil {
		return translate("delete", name, err)
	}
	return nil
}

// Location is the absolute root directory.
func (s *Store) Location() string { return s.root }

// Close does nothing: the store holds no open files between calls.
func (s *Store) Close() error { return nil }

func (s *Store) path(name string) string {
	return filepath.Join(s.root, filepath.FromSlash(name))
}

func check(ctx context.Context, op, name string) error {
	if err := contract.CheckName(name); err != nil {
		return fmt.Errorf("fs %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fs %s %s: %w", op, name, err)
	}
	return nil
}

// notObject reports a directory where an object was asked for; it reads as
// ENOENT because a directory is never an object.
func notObject(p string) error {
	return &iofs.PathError{Op: "open", Path: p, Err: syscall.ENOENT}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some filesystems (certain FUSE and network mounts) cannot fsync a
	// directory; they order metadata themselves, so this is not a failure.
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
