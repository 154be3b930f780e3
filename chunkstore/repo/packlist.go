package repo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/internal/extsort"
)

// packRecord is a listed pack in a PackList: ID, size, modification time
// in Unix nanoseconds.
const packRecord = core.IDSize + 8 + 8

// PackList is the store's packs sorted by ID, kept in a temporary file so
// that a listing of millions of packs costs no memory. Read it with Next.
type PackList struct {
	f   *os.File
	r   *bufio.Reader
	n   int64
	rec []byte
}

// TempDir is where bounded walks (sorts, sets) keep their files: the
// index cache directory when there is one, else the system's.
func (r *Repository) TempDir() (string, error) {
	if r.cache == nil {
		return os.TempDir(), nil
	}
	if err := os.MkdirAll(r.cache.dir, 0o700); err != nil {
		return "", fmt.Errorf("index cache %s: %w", r.cache.dir, err)
	}
	return r.cache.dir, nil
}

// SortedPacks lists the store's packs, sorted by ID within the memory
// budget.
func (r *Repository) SortedPacks(ctx context.Context) (*PackList, error) {
	dir, err := r.TempDir()
	if err != nil {
		return nil, err
	}
	s, err := extsort.New(extsort.Config{RecordSize: packRecord, Compare: bytes.Compare, Dir: dir, Memory: r.MaxMemory() / 4})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rec := make([]byte, packRecord)
	err = r.EachStoredPack(ctx, func(p PackInfo) error {
		copy(rec, p.ID[:])
		binary.BigEndian.PutUint64(rec[core.IDSize:], uint64(p.Size))
		binary.BigEndian.PutUint64(rec[core.IDSize+8:], uint64(p.ModTime.UnixNano()))
		return s.Add(rec)
	})
	if err != nil {
		return nil, err
	}
	return writePackList(dir, s)
}

func writePackList(dir string, s *extsort.Sorter) (*PackList, error) {
	f, err := os.CreateTemp(dir, "sort-packs-")
	if err != nil {
		return nil, fmt.Errorf("list packs: %w", err)
	}
	os.Remove(f.Name()) // the open file is all that is needed
	w := bufio.NewWriter(f)
	err = s.Sort(func(rec []byte) error { _, err := w.Write(rec); return err })
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("list packs: %w", err)
	}
	return &PackList{f: f, r: bufio.NewReaderSize(f, 256<<10), n: s.Count(), rec: make([]byte, packRecord)}, nil
}

// Len returns the number of packs listed.
func (l *PackList) Len() int64 { return l.n }

// Next returns the next pack, or false at the end.
func (l *PackList) Next() (PackInfo, bool, error) {
	if _, err := io.ReadFull(l.r, l.rec); err == io.EOF {
		return PackInfo{}, false, nil
	} else if err != nil {
		return PackInfo{}, false, fmt.Errorf("list packs: %w", err)
	}
	var id core.ID
	copy(id[:], l.rec)
	size := int64(binary.BigEndian.Uint64(l.rec[core.IDSize:]))
	mod := time.Unix(0, int64(binary.BigEndian.Uint64(l.rec[core.IDSize+8:])))
	return PackInfo{ID: id, Size: size, Info: blob.Info{Name: PackName(id), Size: size, ModTime: mod}}, true, nil
}

// Close releases the list's file.
func (l *PackList) Close() error { return l.f.Close() }

// JoinPacks walks the store's packs, sorted on disk, beside ix's packs in
// ID order, and calls fn once per pack either holds: stored is nil for a
// pack only the index lists, blobs nil for one only the store holds.
// Neither side is held in memory. It stops at fn's first error.
func (r *Repository) JoinPacks(ctx context.Context, ix *index.Index, fn func(id core.ID, stored *PackInfo, blobs []index.Blob) error) error {
	list, err := r.SortedPacks(ctx)
	if err != nil {
		return err
	}
	defer list.Close()
	cur, ok, err := list.Next()
	var fnErr error
	walkErr := ix.EachPackSorted(func(id core.ID, blobs []index.Blob) bool {
		for err == nil && fnErr == nil && ok && bytes.Compare(cur.ID[:], id[:]) < 0 {
			info := cur
			fnErr = fn(info.ID, &info, nil)
			cur, ok, err = list.Next()
		}
		if err != nil || fnErr != nil {
			return false
		}
		if ok && cur.ID == id {
			info := cur
			fnErr = fn(id, &info, blobs)
			cur, ok, err = list.Next()
		} else {
			fnErr = fn(id, nil, blobs)
		}
		return err == nil && fnErr == nil && ctx.Err() == nil
	})
	for err == nil && fnErr == nil && ok {
		info := cur
		fnErr = fn(info.ID, &info, nil)
		cur, ok, err = list.Next()
	}
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return err
	case walkErr != nil:
		return fmt.Errorf("read the index cache: %w", walkErr)
	}
	return ctx.Err()
}
