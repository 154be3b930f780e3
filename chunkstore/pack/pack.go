package pack

import (
	"encoding/binary"
	"fmt"

	"github.com/zeebo/blake3"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/index"
)

const (
	magic      = "CAIRNPAK"
	version    = 1
	entrySize  = 1 + core.IDSize + 4 + 4
	headerHead = len(magic) + 1 + 4
	// TailSize is the length field at the very end of a pack.
	TailSize = 4
	// MaxHeaderSize bounds a header so a corrupt length cannot make a reader
	// fetch or allocate without limit: 1 Mi blobs per pack is far beyond any
	// target pack size.
	MaxHeaderSize = headerHead + (1<<20)*entrySize + crypto.Overhead
)

// ErrCorrupt marks a pack whose structure is invalid. It wraps
// core.ErrCorrupt, the mark of all damaged repository bytes.
var ErrCorrupt = fmt.Errorf("corrupt pack: %w", core.ErrCorrupt)

// Writer accumulates sealed blobs into one pack. It is not safe for
// concurrent use; the repository's packer serializes access.
type Writer struct {
	buf   []byte
	blobs []index.Blob
}

// NewWriter starts a pack in buf[:0], reusing its capacity.
func NewWriter(buf []byte) *Writer {
	return &Writer{buf: buf[:0]}
}

// Reserve appends room for one sealed blob of sealedLen bytes and returns
// that room (length 0, capacity sealedLen) to seal into, or nil when the
// buffer cannot hold it without growing. Reserved room never moves, so
// several goroutines may seal into their rooms at once, outside whatever
// lock serializes Reserve; the pack must not be finished before they are
// done.
func (w *Writer) Reserve(t core.BlobType, id core.ID, sealedLen, rawLen int) []byte {
	off := len(w.buf)
	if off+sealedLen > cap(w.buf) {
		return nil
	}
	w.blobs = append(w.blobs, index.Blob{
		ID: id, Type: t, Offset: uint32(off),
		Length: uint32(sealedLen), RawLength: uint32(rawLen),
	})
	w.buf = w.buf[:off+sealedLen]
	return w.buf[off : off : off+sealedLen]
}

// Size is the number of blob bytes so far.
func (w *Writer) Size() int { return len(w.buf) }

// Count is the number of blobs so far.
func (w *Writer) Count() int { return len(w.blobs) }

// Finished is a complete pack ready to upload.
type Finished struct {
	ID    core.ID
	Data  []byte
	Blobs []index.Blob
}

// Finish seals the header, appends it and the tail, and names the pack by
// HeaderID (format version 2; version 1 repositories rename it by ID).
func (w *Writer) Finish(key *crypto.Key) Finished {
	hdr := make([]byte, 0, headerHead+len(w.blobs)*entrySize)
	hdr = append(hdr, magic...)
	hdr = append(hdr, version)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(w.blobs)))
	for _, b := range w.blobs {
		hdr = append(hdr, byte(b.Type))
		hdr = append(hdr, b.ID[:]...)
		hdr = binary.LittleEndian.AppendUint32(hdr, b.Length)
		hdr = binary.LittleEndian.AppendUint32(hdr, b.RawLength)
	}
	start := len(w.buf)
	w.buf = key.Seal(w.buf, hdr)
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(w.buf)-start))
	return Finished{ID: core.ID(blake3.Sum256(w.buf[start:])), Data: w.buf, Blobs: w.blobs}
}

// ID returns the plain BLAKE3-256 of data: the name of a pack in format
// version 1, and of the repository's other content-named files.
func ID(data []byte) core.ID {
	return core.ID(blake3.Sum256(data))
}

// HeaderID returns the name of a pack in format version 2: the BLAKE3-256
// of its sealed header and the length field after it. tail holds at least
// those last bytes of a pack of packSize bytes. The sealed header lists
// every blob's ID (a hash of its plaintext) and lengths, and each blob is
// authenticated on its own, so the name still commits to the pack's
// content while a writer hashes a few KiB instead of the whole pack.
func HeaderID(tail []byte, packSize int64) (core.ID, error) {
	hlen, err := HeaderLength(tail, packSize)
	if err != nil {
		return core.ID{}, err
	}
	if len(tail) < hlen+TailSize {
		return core.ID{}, fmt.Errorf("%w: have %d tail bytes, need %d", ErrCorrupt, len(tail), hlen+TailSize)
	}
	return core.ID(blake3.Sum256(tail[len(tail)-hlen-TailSize:])), nil
}

// HeaderLength reads the sealed header length from the last TailSize bytes of
// a pack of packSize bytes, and checks it is plausible.
func HeaderLength(tail []byte, packSize int64) (int, error) {
	if len(tail) < TailSize || packSize < TailSize {
		return 0, fmt.Errorf("%w: %d bytes is too short for a pack", ErrCorrupt, packSize)
	}
	n := int64(binary.LittleEndian.Uint32(tail[len(tail)-TailSize:]))
	if n < int64(crypto.Overhead+headerHead) || n > int64(MaxHeaderSize) || n+TailSize > packSize {
		return 0, fmt.Errorf("%w: header length %d does not fit a pack of %d bytes", ErrCorrupt, n, packSize)
	}
	return int(n), nil
}

// ParseHeader decrypts and parses the header found at the end of tail, which
// holds the last bytes of a pack of packSize bytes (at least the header and
// the length field). It returns the blobs with their offsets.
func ParseHeader(key *crypto.Key, tail []byte, packSize int64) ([]index.Blob, error) {
	hlen, err := HeaderLength(tail, packSize)
	if err != nil {
		return nil, err
	}
	if len(tail) < hlen+TailSize {
		return nil, fmt.Errorf("parse pack header: have %d tail bytes, need %d", len(tail), hlen+TailSize)
	}
	sealed := tail[len(tail)-TailSize-hlen : len(tail)-TailSize]
	plain, err := key.Open(nil, sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypt header: %w", ErrCorrupt, err)
	}
	return decodeHeader(plain, packSize-int64(hlen)-TailSize)
}

func decodeHeader(b []byte, blobBytes int64) ([]index.Blob, error) {
	if len(b) < headerHead || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: bad header magic", ErrCorrupt)
	}
	if v := b[len(magic)]; v != version {
		return nil, fmt.Errorf("%w: header version %d is unknown; a newer cairn wrote this repository", ErrCorrupt, v)
	}
	count := binary.LittleEndian.Uint32(b[len(magic)+1:])
	rest := b[headerHead:]
	if uint64(count)*entrySize != uint64(len(rest)) {
		return nil, fmt.Errorf("%w: header says %d blobs but holds %d bytes of entries", ErrCorrupt, count, len(rest))
	}
	blobs := make([]index.Blob, count)
	var off int64
	for i := range blobs {
		e := rest[i*entrySize:]
		bl := index.Blob{Type: core.BlobType(e[0]), Offset: uint32(off)}
		copy(bl.ID[:], e[1:1+core.IDSize])
		bl.Length = binary.LittleEndian.Uint32(e[1+core.IDSize:])
		bl.RawLength = binary.LittleEndian.Uint32(e[5+core.IDSize:])
		if !bl.Type.Valid() || bl.Length <= crypto.Overhead {
			return nil, fmt.Errorf("%w: header entry %d (type %d, length %d) is invalid", ErrCorrupt, i, e[0], bl.Length)
		}
		off += int64(bl.Length)
		if off > blobBytes {
			return nil, fmt.Errorf("%w: header entries run past the blob area (%d bytes)", ErrCorrupt, blobBytes)
		}
		blobs[i] = bl
	}
	if off != blobBytes {
		return nil, fmt.Errorf("%w: header entries cover %d of %d blob bytes", ErrCorrupt, off, blobBytes)
	}
	return blobs, nil
}
