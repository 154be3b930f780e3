package idset

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/internal/extsort"
)

// blockIDs is how many IDs one fence covers: 4 KiB, one read.
const blockIDs = 128

// Builder collects IDs; duplicates are allowed and stored once.
type Builder struct {
	s *extsort.Sorter
}

// NewBuilder returns a builder that sorts in dir within memory bytes.
func NewBuilder(dir string, memory int64) (*Builder, error) {
	s, err := extsort.New(extsort.Config{RecordSize: core.IDSize, Compare: bytes.Compare, Dir: dir, Memory: memory})
	if err != nil {
		return nil, err
	}
	return &Builder{s: s}, nil
}

// Add adds one ID.
func (b *Builder) Add(id core.ID) error { return b.s.Add(id[:]) }

// Close removes the builder's temporary files.
func (b *Builder) Close() error { return b.s.Close() }

// Finish writes the distinct IDs, sorted, to path and opens the set.
func (b *Builder) Finish(path string) (*Set, error) {
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("id set: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	var prev []byte
	err = b.s.Sort(func(rec []byte) error {
		if prev != nil && bytes.Equal(prev, rec) {
			return nil
		}
		prev = append(prev[:0], rec...)
		_, err := w.Write(rec)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("id set: write %s: %w", path, err)
	}
	return Open(path)
}

// Set is an open ID set. It is safe for concurrent use.
type Set struct {
	f      *os.File
	n      int64
	fences []uint64
}

// Open opens the set at path, reading it once to build its fences.
func Open(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("id set: %w", err)
	}
	st, err := f.Stat()
	if err != nil || st.Size()%core.IDSize != 0 {
		f.Close()
		return nil, fmt.Errorf("id set %s: not a whole number of IDs (%v)", path, err)
	}
	s := &Set{f: f, n: st.Size() / core.IDSize}
	if err := s.loadFences(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *Set) loadFences() error {
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, 0, s.n*core.IDSize), 256<<10)
	id := make([]byte, core.IDSize)
	for i := int64(0); i < s.n; i++ {
		if _, err := io.ReadFull(r, id); err != nil {
			return fmt.Errorf("id set: %w", err)
		}
		if i%blockIDs == 0 {
			s.fences = append(s.fences, binary.BigEndian.Uint64(id))
		}
	}
	return nil
}

// Len returns the number of distinct IDs.
func (s *Set) Len() int64 { return s.n }

// Has reports whether id is in the set.
func (s *Set) Has(id core.ID) (bool, error) {
	k := binary.BigEndian.Uint64(id[:])
	first := sort.Search(len(s.fences), func(i int) bool { return s.fences[i] >= k })
	last := sort.Search(len(s.fences), func(i int) bool { return s.fences[i] > k })
	lo, hi := int64(max(first-1, 0))*blockIDs, min(int64(last)*blockIDs, s.n)
	if lo >= hi {
		return false, nil
	}
	buf := make([]byte, (hi-lo)*core.IDSize)
	if _, err := s.f.ReadAt(buf, lo*core.IDSize); err != nil {
		return false, fmt.Errorf("id set: %w", err)
	}
	n := int(hi - lo)
	i := sort.Search(n, func(j int) bool { return bytes.Compare(buf[j*core.IDSize:(j+1)*core.IDSize], id[:]) >= 0 })
	return i < n && bytes.Equal(buf[i*core.IDSize:(i+1)*core.IDSize], id[:]), nil
}

// Close closes the set's file.
func (s *Set) Close() error { return s.f.Close() }
