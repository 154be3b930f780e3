package index

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/FastFilter/xorfilter"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/internal/extsort"
)

// Segment files: every one starts with a 64-byte header, magic, version,
// kind and record count (FORMAT.md, "Index cache").
const (
	segMagic       = "CAIRNSEG"
	SegmentVersion = 1
	segHeaderSize  = 64
	blockRecords   = 64 // records per fence: a block is 4.8 KiB, about one page
	filterParts    = 1 << 12
	filterDirEntry = 40
	tagSize        = 4
	sortRecordSize = segRecordSize + tagSize
)

// Kinds of segment file, and the suffixes of their names.
const (
	kindIDs = 1 + iota
	kindPacks
	kindIDFence
	kindPackFence
	kindFilter
)

var segSuffix = map[int]string{
	kindIDs: ".ids", kindPacks: ".packs", kindIDFence: ".idfence",
	kindPackFence: ".packfence", kindFilter: ".filter",
}

// SegmentFiles returns the names of the files of segment name.
func SegmentFiles(name string) []string {
	out := make([]string, 0, len(segSuffix))
	for k := kindIDs; k <= kindFilter; k++ {
		out = append(out, name+segSuffix[k])
	}
	return out
}

// SegmentConfig says where a segment is built and in what memory.
type SegmentConfig struct {
	Dir    string // the cache directory; it must exist
	Memory int64  // for sorting; the filter build adds about 30 bytes per 4096th of the entries
}

// SegmentInfo describes a finished segment.
type SegmentInfo struct {
	Name    string `json:"name"`
	Entries int64  `json:"entries"`
	Packs   int64  `json:"packs"`
}

// SegmentBuilder collects index entries and writes them as one segment.
// Entries are sorted on disk, so a segment may be far larger than memory.
type SegmentBuilder struct {
	cfg    SegmentConfig
	byID   *extsort.Sorter
	byPack *extsort.Sorter
	rec    []byte
	// onRecord sees every record written, for counting packs.
	onRecord func(rec []byte)
	ctx      context.Context // of Finish, checked while writing
}

// NewSegmentBuilder returns an empty builder.
func NewSegmentBuilder(cfg SegmentConfig) (*SegmentBuilder, error) {
	half := cfg.Memory / 2
	byID, err := extsort.New(extsort.Config{RecordSize: sortRecordSize, Compare: compareByID, Dir: cfg.Dir, Memory: half})
	if err != nil {
		return nil, err
	}
	byPack, err := extsort.New(extsort.Config{RecordSize: sortRecordSize, Compare: compareByPack, Dir: cfg.Dir, Memory: half})
	if err != nil {
		return nil, err
	}
	return &SegmentBuilder{cfg: cfg, byID: byID, byPack: byPack, rec: make([]byte, sortRecordSize)}, nil
}

// AddPack adds the blobs of one pack. tag names where they came from, so
// that Finish can leave out a source found superseded later.
func (b *SegmentBuilder) AddPack(tag uint32, pack core.ID, blobs []Blob) error {
	for i := range blobs {
		if err := CheckBlob(blobs[i]); err != nil {
			return fmt.Errorf("add pack %s: %w", pack.Short(), err)
		}
		putRecord(b.rec, &pack, &blobs[i])
		binary.BigEndian.PutUint32(b.rec[segRecordSize:], tag)
		if err := b.byID.Add(b.rec); err != nil {
			return err
		}
		if err := b.byPack.Add(b.rec); err != nil {
			return err
		}
	}
	return nil
}

// Close removes the builder's temporary files. It is safe after Finish.
func (b *SegmentBuilder) Close() error {
	err := b.byID.Close()
	if err2 := b.byPack.Close(); err == nil {
		err = err2
	}
	return err
}

// Finish writes the segment and returns its description. Entries whose
// tag keep rejects (keep nil keeps all) are left out, and identical entries
// are stored once. The files appear under their final names only once
// complete and synced, so a process killed meanwhile leaves temporary
// files (RemoveSegmentLeftovers) and no partial segment.
func (b *SegmentBuilder) Finish(ctx context.Context, keep func(tag uint32) bool) (SegmentInfo, error) {
	info := SegmentInfo{Name: newSegmentName()}
	b.ctx = ctx
	n, err := b.writeSorted(b.byID, info.Name, kindIDs, kindIDFence, keep, true)
	if err != nil {
		return info, err
	}
	info.Entries = n
	// The ID order's sort runs are spent: free their disk before the
	// pack order is written.
	if err := b.byID.Close(); err != nil {
		return info, err
	}
	if info.Packs, err = b.writePackOrder(info.Name, keep); err != nil {
		return info, err
	}
	for _, f := range SegmentFiles(info.Name) {
		if err := os.Rename(tmpPath(b.cfg.Dir, f), filepath.Join(b.cfg.Dir, f)); err != nil {
			return info, fmt.Errorf("index cache: finish segment: %w", err)
		}
	}
	return info, syncDir(b.cfg.Dir)
}

func (b *SegmentBuilder) writePackOrder(name string, keep func(uint32) bool) (int64, error) {
	packs := int64(0)
	var last core.ID
	count := func(rec []byte) {
		if p := recordPack(rec); packs == 0 || p != last {
			packs, last = packs+1, p
		}
	}
	b.onRecord = count
	defer func() { b.onRecord = nil }()
	_, err := b.writeSorted(b.byPack, name, kindPacks, kindPackFence, keep, false)
	return packs, err
}

func newSegmentName() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "seg-" + hex.EncodeToString(b[:])
}

// tmpPath is where a segment file is written before it is complete.
func tmpPath(dir, name string) string { return filepath.Join(dir, ".tmp-"+name) }

// writeSorted writes one ordering of the records, its fences and, for the
// ID order, the filter, and returns how many records it wrote.
func (b *SegmentBuilder) writeSorted(s *extsort.Sorter, name string, kind, fenceKind int, keep func(uint32) bool, withFilter bool) (int64, error) {
	recs, err := createSegFile(b.cfg.Dir, name+segSuffix[kind], kind)
	if err != nil {
		return 0, err
	}
	defer recs.abort()
	fences, err := createSegFile(b.cfg.Dir, name+segSuffix[fenceKind], fenceKind)
	if err != nil {
		return 0, err
	}
	defer fences.abort()
	var flt *filterWriter
	if withFilter {
		if flt, err = newFilterWriter(b.cfg.Dir, name+segSuffix[kindFilter]); err != nil {
			return 0, err
		}
		defer flt.abort()
	}
	fenceAt := 0
	if kind == kindPacks {
		fenceAt = recPack
	}
	var prev []byte
	err = s.Sort(func(rec []byte) error {
		if keep != nil && !keep(binary.BigEndian.Uint32(rec[segRecordSize:])) {
			return nil
		}
		if prev != nil && bytes.Equal(prev, rec[:segRecordSize]) {
			return nil
		}
		prev = append(prev[:0], rec[:segRecordSize]...)
		if recs.count%(1<<16) == 0 && b.ctx.Err() != nil {
			return b.ctx.Err()
		}
		if b.onRecord != nil {
			b.onRecord(rec)
		}
		if recs.count%blockRecords == 0 {
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], fenceKey(rec[fenceAt:]))
			if err := fences.write(k[:]); err != nil {
				return err
			}
		}
		if flt != nil {
			if err := flt.add(rec); err != nil {
				return err
			}
		}
		return recs.write(rec[:segRecordSize])
	})
	if err != nil {
		return 0, err
	}
	if flt != nil {
		if err := flt.finish(); err != nil {
			return 0, err
		}
	}
	if err := fences.finish(); err != nil {
		return 0, err
	}
	return recs.count, recs.finish()
}

// segFile is one segment file being written under its temporary name.
type segFile struct {
	f     *os.File
	w     *bufio.Writer
	kind  int
	count int64
	done  bool
}

func createSegFile(dir, name string, kind int) (*segFile, error) {
	f, err := os.OpenFile(tmpPath(dir, name), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("index cache: %w", err)
	}
	sf := &segFile{f: f, w: bufio.NewWriterSize(f, 256<<10), kind: kind}
	if _, err := sf.w.Write(make([]byte, segHeaderSize)); err != nil {
		sf.abort()
		return nil, err
	}
	return sf, nil
}

func (sf *segFile) write(b []byte) error {
	sf.count++
	if _, err := sf.w.Write(b); err != nil {
		return fmt.Errorf("index cache: write %s: %w", filepath.Base(sf.f.Name()), err)
	}
	return nil
}

// finish writes the header and syncs the file.
func (sf *segFile) finish() error {
	if err := sf.w.Flush(); err != nil {
		return fmt.Errorf("index cache: %w", err)
	}
	if _, err := sf.f.WriteAt(segHeader(sf.kind, sf.count), 0); err != nil {
		return fmt.Errorf("index cache: %w", err)
	}
	if err := sf.f.Sync(); err != nil {
		return fmt.Errorf("index cache: %w", err)
	}
	sf.done = true
	return sf.f.Close()
}

// abort closes and removes an unfinished file; after finish it does nothing.
func (sf *segFile) abort() {
	if !sf.done {
		sf.f.Close()
		os.Remove(sf.f.Name())
		sf.done = true
	}
}

func segHeader(kind int, count int64) []byte {
	h := make([]byte, segHeaderSize)
	copy(h, segMagic)
	binary.LittleEndian.PutUint32(h[8:], SegmentVersion)
	binary.LittleEndian.PutUint32(h[12:], uint32(kind))
	binary.LittleEndian.PutUint64(h[16:], uint64(count))
	return h
}

// filterWriter builds one binary fuse filter per ID partition as the
// sorted records go by, so only one partition's keys are in memory.
type filterWriter struct {
	sf   *segFile
	dir  []byte
	part int
	keys []uint64
	off  int64
}

func newFilterWriter(dir, name string) (*filterWriter, error) {
	sf, err := createSegFile(dir, name, kindFilter)
	if err != nil {
		return nil, err
	}
	fw := &filterWriter{sf: sf, dir: make([]byte, filterParts*filterDirEntry), part: -1}
	// The directory is written at the end; its room is reserved now.
	if _, err := sf.w.Write(fw.dir); err != nil {
		sf.abort()
		return nil, err
	}
	return fw, nil
}

func (fw *filterWriter) add(rec []byte) error {
	p := filterPart(rec)
	if p != fw.part {
		if err := fw.flush(); err != nil {
			return err
		}
		fw.part = p
	}
	k := filterKey(rec[:core.IDSize])
	if n := len(fw.keys); n == 0 || fw.keys[n-1] != k {
		fw.keys = append(fw.keys, k) // duplicates of one ID are adjacent
	}
	return nil
}

// flush builds the current partition's filter and appends it.
func (fw *filterWriter) flush() error {
	if len(fw.keys) == 0 {
		return nil
	}
	f, err := xorfilter.NewBinaryFuse[uint8](fw.keys)
	if err != nil {
		return fmt.Errorf("index cache: build filter: %w", err)
	}
	e := fw.dir[fw.part*filterDirEntry:]
	le := binary.LittleEndian
	le.PutUint64(e[0:], f.Seed)
	le.PutUint32(e[8:], f.SegmentLength)
	le.PutUint32(e[12:], f.SegmentLengthMask)
	le.PutUint32(e[16:], f.SegmentCount)
	le.PutUint32(e[20:], f.SegmentCountLength)
	le.PutUint64(e[24:], uint64(len(f.Fingerprints)))
	le.PutUint64(e[32:], uint64(fw.off))
	if _, err := fw.sf.w.Write(f.Fingerprints); err != nil {
		return fmt.Errorf("index cache: write filter: %w", err)
	}
	fw.off += int64(len(f.Fingerprints))
	fw.keys = fw.keys[:0]
	return nil
}

func (fw *filterWriter) finish() error {
	if err := fw.flush(); err != nil {
		return err
	}
	if err := fw.sf.w.Flush(); err != nil {
		return err
	}
	if _, err := fw.sf.f.WriteAt(fw.dir, segHeaderSize); err != nil {
		return fmt.Errorf("index cache: write filter: %w", err)
	}
	fw.sf.count = filterParts
	return fw.sf.finish()
}

func (fw *filterWriter) abort() { fw.sf.abort() }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("index cache: sync %s: %w", dir, err)
	}
	return nil
}

// RemoveSegmentLeftovers deletes the temporary files a killed build left
// in dir: unfinished segment files and sort runs.
func RemoveSegmentLeftovers(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, ".tmp-seg-*"))
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.Remove(n); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return extsort.RemoveLeftovers(dir)
}
