package extsort

import (
	"bufio"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// runPrefix names run files, so leftovers of a killed process are found.
const runPrefix = "sort-"

// readBuffer is the read buffer of one run while merging: large enough
// for sequential disk reads, small enough for hundreds of runs.
const readBuffer = 64 << 10

// minMemory keeps a tiny budget from degenerating into one run per record.
const minMemory = 1 << 20

// Config describes the records and where runs go.
type Config struct {
	RecordSize int
	Compare    func(a, b []byte) int
	Dir        string // for run files; must exist
	Memory     int64  // buffer budget in bytes; at least 1 MiB is used
}

// Sorter collects records and returns them in order.
type Sorter struct {
	cfg   Config
	buf   []byte
	order []uint32
	runs  []string
	count int64
}

// New returns an empty sorter.
func New(cfg Config) (*Sorter, error) {
	if cfg.RecordSize <= 0 || cfg.Compare == nil {
		return nil, errors.New("extsort: record size and comparison are required")
	}
	mem := max(cfg.Memory, minMemory)
	perRecord := int64(cfg.RecordSize + 4)
	n := mem / perRecord
	return &Sorter{cfg: cfg, buf: make([]byte, 0, n*int64(cfg.RecordSize))}, nil
}

// Count returns how many records were added.
func (s *Sorter) Count() int64 { return s.count }

// Add copies one record in.
func (s *Sorter) Add(rec []byte) error {
	if len(rec) != s.cfg.RecordSize {
		return fmt.Errorf("extsort: record of %d bytes, want %d", len(rec), s.cfg.RecordSize)
	}
	if len(s.buf)+len(rec) > cap(s.buf) {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.buf = append(s.buf, rec...)
	s.count++
	return nil
}

// sortBuffer orders the buffered records through a permutation, which
// moves 4 bytes per swap instead of a record.
func (s *Sorter) sortBuffer() {
	size := s.cfg.RecordSize
	n := len(s.buf) / size
	s.order = s.order[:0]
	for i := 0; i < n; i++ {
		s.order = append(s.order, uint32(i))
	}
	slices.SortFunc(s.order, func(a, b uint32) int {
		return s.cfg.Compare(s.rec(a), s.rec(b))
	})
}

func (s *Sorter) rec(i uint32) []byte {
	size := s.cfg.RecordSize
	return s.buf[int(i)*size : int(i+1)*size]
}

// spill writes the sorted buffer to a new run file.
func (s *Sorter) spill() error {
	if len(s.buf) == 0 {
		return nil
	}
	s.sortBuffer()
	f, err := os.CreateTemp(s.cfg.Dir, runPrefix)
	if err != nil {
		return fmt.Errorf("extsort: create run: %w", err)
	}
	s.runs = append(s.runs, f.Name())
	w := bufio.NewWriterSize(f, readBuffer)
	for _, i := range s.order {
		if _, err := w.Write(s.rec(i)); err != nil {
			f.Close()
			return fmt.Errorf("extsort: write run: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("extsort: write run: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("extsort: write run: %w", err)
	}
	s.buf = s.buf[:0]
	return nil
}

// Sort calls fn with every record in order, until fn returns an error,
// which Sort returns. rec is only valid during the call. Sort may be
// called once.
func (s *Sorter) Sort(fn func(rec []byte) error) error {
	if len(s.runs) == 0 {
		s.sortBuffer()
		for _, i := range s.order {
			if err := fn(s.rec(i)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.spill(); err != nil {
		return err
	}
	s.buf, s.order = nil, nil // the merge needs only the run readers
	return s.merge(fn)
}

// Close removes the run files.
func (s *Sorter) Close() error {
	var first error
	for _, name := range s.runs {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) && first == nil {
			first = err
		}
	}
	s.runs = nil
	return first
}

// RemoveLeftovers deletes run files a killed process left in dir.
func RemoveLeftovers(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, runPrefix+"*"))
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.Remove(n); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

type run struct {
	f   *os.File
	r   *bufio.Reader
	rec []byte
}

func (r *run) next() (bool, error) {
	_, err := io.ReadFull(r.r, r.rec)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("extsort: read run: %w", err)
	}
	return true, nil
}

type runHeap struct {
	runs []*run
	cmp  func(a, b []byte) int
}

func (h *runHeap) Len() int           { return len(h.runs) }
func (h *runHeap) Less(i, j int) bool { return h.cmp(h.runs[i].rec, h.runs[j].rec) < 0 }
func (h *runHeap) Swap(i, j int)      { h.runs[i], h.runs[j] = h.runs[j], h.runs[i] }
func (h *runHeap) Push(x any)         { h.runs = append(h.runs, x.(*run)) }
func (h *runHeap) Pop() any {
	r := h.runs[len(h.runs)-1]
	h.runs = h.runs[:len(h.runs)-1]
	return r
}

// merge does a k-way merge of the run files.
func (s *Sorter) merge(fn func(rec []byte) error) error {
	h := &runHeap{cmp: s.cfg.Compare}
	defer func() {
		for _, r := range h.runs {
			r.f.Close()
		}
	}()
	for _, name := range s.runs {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("extsort: open run: %w", err)
		}
		r := &run{f: f, r: bufio.NewReaderSize(f, readBuffer), rec: make([]byte, s.cfg.RecordSize)}
		ok, err := r.next()
		if err != nil || !ok {
			f.Close()
			if err != nil {
				return err
			}
			continue
		}
		h.runs = append(h.runs, r)
	}
	heap.Init(h)
	for h.Len() > 0 {
		top := h.runs[0]
		if err := fn(top.rec); err != nil {
			return err
		}
		ok, err := top.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			top.f.Close()
			heap.Pop(h)
		}
	}
	return nil
}
