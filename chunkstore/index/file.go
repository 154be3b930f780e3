package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// FileVersion is the index file format version this package writes and the
// only one it reads.
const FileVersion = 1

const (
	fileMagic      = "CAIRNIDX"
	fileHeaderSize = len(fileMagic) + 1 + 4 // magic, version, nsuper
	packHeaderSize = core.IDSize + 4        // pack id, nblobs
	blobRecordSize = 1 + core.IDSize + 4*3  // type, id, offset, length, raw length
	countSize      = 4                      // every count is a uint32
	maxCount       = math.MaxUint32         // largest count a file can hold
)

var (
	// ErrTruncated is wrapped when an index file ends before its counts say.
	ErrTruncated = errors.New("truncated index file")
	// ErrCorrupt is wrapped for bad magic, invalid entries and trailing data.
	// It wraps core.ErrCorrupt, the mark of all damaged repository bytes.
	ErrCorrupt = fmt.Errorf("corrupt index file: %w", core.ErrCorrupt)
	// ErrUnsupportedVersion is wrapped when the file has a version this
	// cairn does not know, usually because a newer cairn wrote it.
	ErrUnsupportedVersion = errors.New("unsupported index file version")
)

// File is the plaintext content of one index file: the packs a writer
// uploaded, and for files written by prune, the index files they replace.
type File struct {
	Supersedes []core.ID
	Packs      []PackEntry
}

// PackEntry lists the blobs of one pack.
type PackEntry struct {
	ID    core.ID
	Blobs []Blob
}

// Check reports whether f can be encoded: every blob is valid and every
// count fits in 32 bits.
func (f *File) Check() error {
	if uint64(len(f.Supersedes)) > maxCount || uint64(len(f.Packs)) > maxCount {
		return fmt.Errorf("index file: more than %d packs or superseded files", uint64(maxCount))
	}
	for i := range f.Packs {
		p := &f.Packs[i]
		if uint64(len(p.Blobs)) > maxCount {
			return fmt.Errorf("index file: pack %s: more than %d blobs", p.ID.Short(), uint64(maxCount))
		}
		for _, b := range p.Blobs {
			if err := CheckBlob(b); err != nil {
				return fmt.Errorf("index file: pack %s: %w", p.ID.Short(), err)
			}
		}
	}
	return nil
}

// EncodedSize returns the exact length of f's encoding.
func (f *File) EncodedSize() int {
	n := fileHeaderSize + core.IDSize*len(f.Supersedes) + countSize
	for i := range f.Packs {
		n += packHeaderSize + blobRecordSize*len(f.Packs[i].Blobs)
	}
	return n
}

// EncodeFile returns the plaintext encoding of f. It fails if f.Check does,
// because a file that cannot be decoded must never reach the repository.
func EncodeFile(f *File) ([]byte, error) {
	return AppendFile(make([]byte, 0, f.EncodedSize()), f)
}

// AppendFile appends the encoding of f to dst, as EncodeFile does.
func AppendFile(dst []byte, f *File) ([]byte, error) {
	if err := f.Check(); err != nil {
		return dst, err
	}
	le := binary.LittleEndian
	dst = append(dst, fileMagic...)
	dst = append(dst, FileVersion)
	dst = le.AppendUint32(dst, uint32(len(f.Supersedes)))
	for i := range f.Supersedes {
		dst = append(dst, f.Supersedes[i][:]...)
	}
	dst = le.AppendUint32(dst, uint32(len(f.Packs)))
	for i := range f.Packs {
		p := &f.Packs[i]
		dst = append(dst, p.ID[:]...)
		dst = le.AppendUint32(dst, uint32(len(p.Blobs)))
		for j := range p.Blobs {
			b := &p.Blobs[j]
			dst = append(dst, byte(b.Type))
			dst = append(dst, b.ID[:]...)
			dst = le.AppendUint32(dst, b.Offset)
			dst = le.AppendUint32(dst, b.Length)
			dst = le.AppendUint32(dst, b.RawLength)
		}
	}
	return dst, nil
}

// DecodeFile parses the plaintext of an index file. It is strict: anything
// but a well-formed file of the current version is an error, and it never
// allocates more than a small multiple of len(b), whatever the counts say.
func DecodeFile(b []byte) (*File, error) {
	d := decoder{buf: b}
	if err := d.header(); err != nil {
		return nil, err
	}
	f := &File{}
	var err error
	if f.Supersedes, err = d.superseded(); err != nil {
		return nil, err
	}
	if f.Packs, err = d.packs(); err != nil {
		return nil, err
	}
	if rest := len(d.buf) - d.off; rest != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after the last pack at offset %d", ErrCorrupt, rest, d.off)
	}
	return f, nil
}

// decoder reads an index file front to back; off is the next byte to read.
type decoder struct {
	buf []byte
	off int
}

// need fails unless n more bytes, holding what, remain.
func (d *decoder) need(n uint64, what string) error {
	if rest := uint64(len(d.buf) - d.off); n > rest {
		return fmt.Errorf("%w: %s at offset %d needs %d bytes, %d remain", ErrTruncated, what, d.off, n, rest)
	}
	return nil
}

func (d *decoder) take(n int) []byte {
	s := d.buf[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) count(what string) (uint32, error) {
	if err := d.need(countSize, what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(d.take(countSize)), nil
}

func (d *decoder) id() (id core.ID) {
	copy(id[:], d.take(core.IDSize))
	return id
}

func (d *decoder) header() error {
	if err := d.need(uint64(len(fileMagic)+1), "header"); err != nil {
		return err
	}
	if magic := d.take(len(fileMagic)); string(magic) != fileMagic {
		return fmt.Errorf("%w: bad magic %q, want %q", ErrCorrupt, magic, fileMagic)
	}
	switch v := d.take(1)[0]; {
	case v > FileVersion:
		return fmt.Errorf("%w %d: the repository was written by a newer cairn (this one reads version %d); upgrade cairn",
			ErrUnsupportedVersion, v, FileVersion)
	case v != FileVersion:
		return fmt.Errorf("%w %d", ErrUnsupportedVersion, v)
	}
	return nil
}

func (d *decoder) superseded() ([]core.ID, error) {
	n, err := d.count("superseded count")
	if err != nil || n == 0 {
		return nil, err
	}
	if err := d.need(uint64(n)*core.IDSize, fmt.Sprintf("%d superseded IDs", n)); err != nil {
		return nil, err
	}
	ids := make([]core.ID, n)
	for i := range ids {
		ids[i] = d.id()
	}
	return ids, nil
}

func (d *decoder) packs() ([]PackEntry, error) {
	n, err := d.count("pack count")
	if err != nil || n == 0 {
		return nil, err
	}
	// Every pack takes at least its header, which bounds the allocation.
	if err := d.need(uint64(n)*packHeaderSize, fmt.Sprintf("%d packs", n)); err != nil {
		return nil, err
	}
	packs := make([]PackEntry, n)
	for i := range packs {
		if packs[i], err = d.pack(i); err != nil {
			return nil, err
		}
	}
	return packs, nil
}

func (d *decoder) pack(i int) (PackEntry, error) {
	var p PackEntry
	if err := d.need(packHeaderSize, fmt.Sprintf("pack %d header", i)); err != nil {
		return p, err
	}
	p.ID = d.id()
	n := binary.LittleEndian.Uint32(d.take(countSize))
	if n == 0 {
		return p, nil
	}
	if err := d.need(uint64(n)*blobRecordSize, fmt.Sprintf("pack %s: %d blobs", p.ID.Short(), n)); err != nil {
		return p, err
	}
	p.Blobs = make([]Blob, n)
	for j := range p.Blobs {
		if err := d.blob(&p.Blobs[j]); err != nil {
			return p, fmt.Errorf("%w: pack %s: %w", ErrCorrupt, p.ID.Short(), err)
		}
	}
	return p, nil
}

func (d *decoder) blob(b *Blob) error {
	le := binary.LittleEndian
	b.Type = core.BlobType(d.take(1)[0])
	b.ID = d.id()
	b.Offset = le.Uint32(d.take(4))
	b.Length = le.Uint32(d.take(4))
	b.RawLength = le.Uint32(d.take(4))
	return CheckBlob(*b)
}

// AddFile adds every pack of f to the index. It checks every entry first
// and adds nothing if one is invalid. Each pack becomes visible as a whole,
// but the file does not: the lock is taken per pack so that lookups do not
// wait for a large file. Supersedes is not looked at: choosing which index
// files to load is the repository's job.
func (ix *Index) AddFile(f *File) error {
	if err := f.Check(); err != nil {
		return err
	}
	for i := range f.Packs {
		if err := ix.addPackLocking(f.Packs[i].ID, f.Packs[i].Blobs); err != nil {
			return err
		}
	}
	return nil
}
