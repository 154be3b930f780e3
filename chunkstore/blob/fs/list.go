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
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/internal/contract"
)

// List walks only the directories that can hold names starting with prefix,
// so listing "data/ab" does not read every other data directory.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	if err := contract.CheckPrefix(prefix); err != nil {
		return fmt.Errorf("fs list %s: %w", prefix, err)
	}
	start := s.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = s.path(prefix[:i])
	}
	var cbErr error
	err := s.walk(ctx, start, func(rel string, d iofs.DirEntry) error {
		if d.IsDir() {
			if strings.HasPrefix(rel+"/", prefix) || strings.HasPrefix(prefix, rel+"/") {
				return nil
			}
			return filepath.SkipDir
		}
		if !strings.HasPrefix(rel, prefix) || isTemp(d) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, iofs.ErrNotExist) {
			return nil // deleted while we walked
		}
		if err != nil {
			return err
		}
		if cbErr = fn(blob.Info{Name: rel, Size: fi.Size(), ModTime: fi.ModTime()}); cbErr != nil {
			return cbErr
		}
		return nil
	})
	if cbErr != nil {
		return cbErr
	}
	if err != nil {
		return translate("list", prefix, err)
	}
	return nil
}

// CleanTemp removes temporary files older than olderThan, left behind by a
// process that died mid-Put. The age threshold keeps it from deleting the
// temporary file of a Put still running in another process; pass at least a
// few minutes. It reports how many files it removed.
func (s *Store) CleanTemp(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	err := s.walk(ctx, s.root, func(rel string, d iofs.DirEntry) error {
		if d.IsDir() || !isTemp(d) {
			return nil
		}
		fi, err := d.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			return nil // vanished (its Put finished) or still young
		}
		if err := os.Remove(s.path(rel)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	if err != nil {
		return removed, translate("clean temp files in", s.root, err)
	}
	return removed, nil
}

var _ blob.LeftoverCleaner = (*Store)(nil)

// Leftovers reports the temporary files of interrupted Puts
// (blob.LeftoverCleaner). A temporary file's Put may still be running in
// another process: callers remove only old ones.
func (s *Store) Leftovers(ctx context.Context, fn func(blob.Leftover) error) error {
	var cbErr error
	err := s.walk(ctx, s.root, func(rel string, d iofs.DirEntry) error {
		if d.IsDir() || !isTemp(d) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // vanished: its Put finished or failed
		}
		cbErr = fn(blob.Leftover{Name: rel, Size: fi.Size(), ModTime: fi.ModTime(), Handle: rel})
		return cbErr
	})
	if cbErr != nil {
		return cbErr
	}
	if err != nil {
		return translate("list temporary files in", s.root, err)
	}
	return nil
}

// RemoveLeftover deletes one temporary file (blob.LeftoverCleaner).
func (s *Store) RemoveLeftover(ctx context.Context, l blob.Leftover) error {
	if err := contract.CheckName(l.Handle); err != nil || !strings.HasPrefix(path.Base(l.Handle), tempPrefix) {
		return fmt.Errorf("fs remove leftover %q: not a temporary file", l.Handle)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(s.path(l.Handle)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return translate("remove temporary file", l.Handle, err)
	}
	return nil
}

// walk calls fn with the slash-separated name of every entry below start
// (start itself excluded). A missing start means an empty listing, unless the
// root itself is gone.
func (s *Store) walk(ctx context.Context, start string, fn func(rel string, d iofs.DirEntry) error) error {
	err := filepath.WalkDir(start, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) || (p == start && errors.Is(err, errNotDir)) {
				return nil // start is absent, or a directory vanished mid-walk
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == start {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), d)
	})
	if err != nil {
		return err
	}
	if _, err := os.Stat(s.root); errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("%w: root directory %s is gone: %w", blob.ErrLocationMissing, s.root, err)
	}
	return nil
}

func isTemp(d iofs.DirEntry) bool { return strings.HasPrefix(d.Name(), tempPrefix) }
