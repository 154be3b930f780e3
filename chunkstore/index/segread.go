package index

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/FastFilter/xorfilter"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// ErrBadSegment is wrapped when a cache segment is missing, truncated or of
// another version. The cache is only a cache: the caller rebuilds it.
var ErrBadSegment = errors.New("bad index cache segment")

// Segment is an open, immutable on-disk index segment. Its filter and
// fences are memory-mapped (they are about 1.25 bytes per entry, touched
// only where lookups go); records are read through the file, a block per
// lookup and sequentially for walks, so they never stay resident. It is safe for concurrent use
// until Close.
type Segment struct {
	name      string
	info      SegmentInfo
	files     map[int]*os.File
	maps      map[int][]byte // fences and filter
	heads     map[int][]byte
	sizes     map[int]int64
	filters   []xorfilter.BinaryFuse[uint8]
	idFence   []byte
	packFence []byte
	errMu     sync.Mutex
	err       error
}

// OpenSegment opens segment info.Name in dir and checks that its files
// are complete and hold info.Entries entries.
func OpenSegment(dir string, info SegmentInfo) (*Segment, error) {
	s := &Segment{name: info.Name, info: info, files: map[int]*os.File{}, maps: map[int][]byte{},
		heads: map[int][]byte{}, sizes: map[int]int64{}}
	for k := kindIDs; k <= kindFilter; k++ {
		if err := s.open(dir, k); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.check(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadFilters(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Segment) open(dir string, kind int) error {
	name := s.name + segSuffix[kind]
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSegment, err)
	}
	s.files[kind] = f
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSegment, err)
	}
	if st.Size() < segHeaderSize {
		return fmt.Errorf("%w: %s is truncated", ErrBadSegment, name)
	}
	s.sizes[kind] = st.Size()
	h := make([]byte, segHeaderSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrBadSegment, name, err)
	}
	s.heads[kind] = h
	if kind != kindIDs && kind != kindPacks {
		m, err := mapFile(f, st.Size())
		if err != nil {
			return fmt.Errorf("%w: map %s: %w", ErrBadSegment, name, err)
		}
		s.maps[kind] = m
	}
	return checkHeader(name, h, kind)
}

func checkHeader(name string, m []byte, kind int) error {
	le := binary.LittleEndian
	switch {
	case string(m[:8]) != segMagic:
		return fmt.Errorf("%w: %s: bad magic", ErrBadSegment, name)
	case le.Uint32(m[8:]) != SegmentVersion:
		return fmt.Errorf("%w: %s: version %d, want %d", ErrBadSegment, name, le.Uint32(m[8:]), SegmentVersion)
	case le.Uint32(m[12:]) != uint32(kind):
		return fmt.Errorf("%w: %s: kind %d, want %d", ErrBadSegment, name, le.Uint32(m[12:]), kind)
	}
	return nil
}

func headerCount(m []byte) int64 { return int64(binary.LittleEndian.Uint64(m[16:])) }

// check verifies every file's size against its count and the manifest's.
func (s *Segment) check() error {
	n := s.info.Entries
	blocks := (n + blockRecords - 1) / blockRecords
	want := map[int]int64{kindIDs: n, kindPacks: n, kindIDFence: blocks, kindPackFence: blocks}
	size := map[int]int64{kindIDs: segRecordSize, kindPacks: segRecordSize, kindIDFence: 8, kindPackFence: 8}
	for k, count := range want {
		if headerCount(s.heads[k]) != count || s.sizes[k] != segHeaderSize+count*size[k] {
			return fmt.Errorf("%w: %s holds %d records in %d bytes, want %d", ErrBadSegment, s.name+segSuffix[k], headerCount(s.heads[k]), s.sizes[k], count)
		}
	}
	s.idFence = s.maps[kindIDFence][segHeaderSize:]
	s.packFence = s.maps[kindPackFence][segHeaderSize:]
	return nil
}

// loadFilters points each partition's filter at its fingerprints in the
// mapped filter file; nothing is copied.
func (s *Segment) loadFilters() error {
	m := s.maps[kindFilter]
	dirEnd := segHeaderSize + filterParts*filterDirEntry
	if headerCount(m) != filterParts || len(m) < dirEnd {
		return fmt.Errorf("%w: %s is truncated", ErrBadSegment, s.name+segSuffix[kindFilter])
	}
	fps := m[dirEnd:]
	le := binary.LittleEndian
	s.filters = make([]xorfilter.BinaryFuse[uint8], filterParts)
	for p := range s.filters {
		e := m[segHeaderSize+p*filterDirEntry:]
		n, off := le.Uint64(e[24:]), le.Uint64(e[32:])
		if off+n > uint64(len(fps)) {
			return fmt.Errorf("%w: %s: partition %d out of bounds", ErrBadSegment, s.name+segSuffix[kindFilter], p)
		}
		s.filters[p] = xorfilter.BinaryFuse[uint8]{
			Seed: le.Uint64(e[0:]), SegmentLength: le.Uint32(e[8:]), SegmentLengthMask: le.Uint32(e[12:]),
			SegmentCount: le.Uint32(e[16:]), SegmentCountLength: le.Uint32(e[20:]),
			Fingerprints: fps[off : off+n : off+n],
		}
		if n > 0 && uint64(s.filters[p].SegmentCountLength)+2*uint64(s.filters[p].SegmentLength) > n {
			return fmt.Errorf("%w: %s: partition %d is inconsistent", ErrBadSegment, s.name+segSuffix[kindFilter], p)
		}
	}
	return nil
}

// Close unmaps and closes the segment's files.
func (s *Segment) Close() error {
	var first error
	for _, m := range s.maps {
		if err := unmapFile(m); err != nil && first == nil {
			first = err
		}
	}
	for _, f := range s.files {
		f.Close()
	}
	s.maps, s.files = nil, nil
	return first
}

// Info returns the segment's description.
func (s *Segment) Info() SegmentInfo { return s.info }

// MayHave reports whether id may be in the segment. A false answer is
// certain and costs no disk read; a true one is wrong about 1 time in 256.
func (s *Segment) MayHave(id *core.ID) bool {
	f := &s.filters[filterPart(id[:])]
	return len(f.Fingerprints) > 0 && f.Contains(filterKey(id[:]))
}

func (s *Segment) rec(recs []byte, i int) []byte {
	return recs[i*segRecordSize : (i+1)*segRecordSize]
}

// span returns the records whose key prefix can equal key's, through the
// fences: the blocks from the last one starting before the key to the
// first one starting after it.
func span(fences []byte, n int, k uint64) (lo, hi int) {
	blocks := len(fences) / 8
	at := func(i int) uint64 { return binary.BigEndian.Uint64(fences[i*8:]) }
	first := sort.Search(blocks, func(i int) bool { return at(i) >= k })
	last := sort.Search(blocks, func(i int) bool { return at(i) > k })
	return max(first-1, 0) * blockRecords, min(last*blockRecords, n)
}

// spanPool holds the buffers lookups read record spans into: two fence
// blocks at most.
var spanPool = sync.Pool{New: func() any {
	b := make([]byte, 2*blockRecords*segRecordSize)
	return &b
}}

// readSpan reads records [lo, hi) of one ordering into a pooled buffer.
// Lookups read through the file rather than the map, so records do not
// stay resident in the process however many lookups run; the page cache
// keeps the hot ones.
func (s *Segment) readSpan(kind, lo, hi int) (*[]byte, []byte, error) {
	bp := spanPool.Get().(*[]byte)
	n := (hi - lo) * segRecordSize
	if cap(*bp) < n {
		*bp = make([]byte, n)
	}
	buf := (*bp)[:n]
	_, err := s.files[kind].ReadAt(buf, segHeaderSize+int64(lo)*segRecordSize)
	if err != nil {
		spanPool.Put(bp)
		return nil, nil, fmt.Errorf("%w: read %s: %w", ErrBadSegment, s.name+segSuffix[kind], err)
	}
	return bp, buf, nil
}

// eachID calls fn with every location of id until fn returns false. A read
// error is kept for ReadErr and treated as not found. Without useFilter
// it goes straight to the fences.
func (s *Segment) eachID(id *core.ID, useFilter bool, fn func(Location) bool) {
	if useFilter && !s.MayHave(id) {
		return
	}
	lo, hi := span(s.idFence, int(s.info.Entries), fenceKey(id[:]))
	if lo >= hi {
		return
	}
	bp, buf, err := s.readSpan(kindIDs, lo, hi)
	if err != nil {
		s.keepErr(err)
		return
	}
	defer spanPool.Put(bp)
	n := hi - lo
	i := sort.Search(n, func(j int) bool { return string(s.rec(buf, j)[:core.IDSize]) >= string(id[:]) })
	for ; i < n; i++ {
		r := s.rec(buf, i)
		if string(r[:core.IDSize]) != string(id[:]) || !fn(recordLocation(r)) {
			return
		}
	}
}

// hasPack reports whether the segment lists pack p.
func (s *Segment) hasPack(p *core.ID) bool {
	lo, hi := span(s.packFence, int(s.info.Entries), fenceKey(p[:]))
	if lo >= hi {
		return false
	}
	bp, buf, err := s.readSpan(kindPacks, lo, hi)
	if err != nil {
		s.keepErr(err)
		return false
	}
	defer spanPool.Put(bp)
	n := hi - lo
	i := sort.Search(n, func(j int) bool { return string(s.rec(buf, j)[recPack:recType]) >= string(p[:]) })
	return i < n && string(s.rec(buf, i)[recPack:recType]) == string(p[:])
}

func (s *Segment) keepErr(err error) {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// ReadErr returns the first error a lookup met reading the segment. Such
// a lookup answered "not found"; a caller that must not miss an entry
// (check, prune) fails on it.
func (s *Segment) ReadErr() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// walk reads the records of one ordering sequentially, calling fn until it
// returns false. It reads through the file, not the map, so a walk of the
// whole segment does not make it resident.
func (s *Segment) walk(kind int, fn func(rec []byte) bool) error {
	f := s.files[kind]
	r := bufio.NewReaderSize(io.NewSectionReader(f, segHeaderSize, s.info.Entries*segRecordSize), 256<<10)
	rec := make([]byte, segRecordSize)
	for i := int64(0); i < s.info.Entries; i++ {
		if _, err := io.ReadFull(r, rec); err != nil {
			return fmt.Errorf("%w: read %s: %w", ErrBadSegment, s.name+segSuffix[kind], err)
		}
		if !fn(rec) {
			return nil
		}
	}
	return nil
}

// EachRecord calls fn with every entry in ID order until fn returns false.
func (s *Segment) EachRecord(fn func(pack core.ID, b Blob) bool) error {
	return s.walk(kindIDs, func(rec []byte) bool { return fn(recordPack(rec), recordBlob(rec)) })
}

// eachPack calls fn once per pack with its blobs sorted by offset, until
// fn returns false. blobs is reused between calls.
func (s *Segment) eachPack(fn func(pack core.ID, blobs []Blob) bool) error {
	var cur core.ID
	var blobs []Blob
	stopped := false
	err := s.walk(kindPacks, func(rec []byte) bool {
		p := recordPack(rec)
		if len(blobs) > 0 && p != cur {
			if !fn(cur, blobs) {
				stopped = true
				return false
			}
			blobs = blobs[:0]
		}
		cur = p
		blobs = append(blobs, recordBlob(rec))
		return true
	})
	if err == nil && !stopped && len(blobs) > 0 {
		fn(cur, blobs)
	}
	return err
}
