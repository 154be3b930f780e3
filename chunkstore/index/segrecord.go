package index

import (
	"bytes"
	"encoding/binary"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// A segment record is one index entry with its pack named in full, so a
// segment needs no pack table (FORMAT.md, "Index cache"):
//
//	blob id 32 | pack id 32 | type 1 | offset 4 | length 4 | raw length 4
//
// Integers are big-endian so that byte order is numeric order.
const (
	segRecordSize = 2*core.IDSize + 1 + 3*4
	recPack       = core.IDSize
	recType       = 2 * core.IDSize
	recOffset     = recType + 1
	recLength     = recOffset + 4
	recRaw        = recLength + 4
)

func putRecord(rec []byte, pack *core.ID, b *Blob) {
	copy(rec, b.ID[:])
	copy(rec[recPack:], pack[:])
	rec[recType] = byte(b.Type)
	binary.BigEndian.PutUint32(rec[recOffset:], b.Offset)
	binary.BigEndian.PutUint32(rec[recLength:], b.Length)
	binary.BigEndian.PutUint32(rec[recRaw:], b.RawLength)
}

func recordID(rec []byte) (id core.ID) {
	copy(id[:], rec[:core.IDSize])
	return id
}

func recordPack(rec []byte) (p core.ID) {
	copy(p[:], rec[recPack:recPack+core.IDSize])
	return p
}

func recordBlob(rec []byte) Blob {
	return Blob{
		ID:        recordID(rec),
		Type:      core.BlobType(rec[recType]),
		Offset:    binary.BigEndian.Uint32(rec[recOffset:]),
		Length:    binary.BigEndian.Uint32(rec[recLength:]),
		RawLength: binary.BigEndian.Uint32(rec[recRaw:]),
	}
}

func recordLocation(rec []byte) Location {
	b := recordBlob(rec)
	return Location{Pack: recordPack(rec), Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}
}

// compareByID orders records by blob ID, then by the rest of the record.
func compareByID(a, b []byte) int { return bytes.Compare(a[:segRecordSize], b[:segRecordSize]) }

// compareByPack orders records by pack, offset, then blob ID.
func compareByPack(a, b []byte) int {
	if c := bytes.Compare(a[recPack:recType], b[recPack:recType]); c != 0 {
		return c
	}
	if c := bytes.Compare(a[recOffset:recLength], b[recOffset:recLength]); c != 0 {
		return c
	}
	return compareByID(a, b)
}

// filterKey folds an ID into the 64-bit key of the segment filter. Real
// IDs are uniform already; folding all four words keeps patterned test IDs
// apart too.
func filterKey(id []byte) uint64 {
	le := binary.LittleEndian
	return le.Uint64(id[0:]) ^ le.Uint64(id[8:])*0x9e3779b97f4a7c15 ^
		le.Uint64(id[16:])*0xc2b2ae3d27d4eb4f ^ le.Uint64(id[24:])*0x165667b19e3779f9
}

// filterPart is the filter partition of an ID: its first 12 bits.
func filterPart(id []byte) int { return int(id[0])<<4 | int(id[1]>>4) }

// fenceKey is the 8-byte big-endian prefix of a 32-byte key.
func fenceKey(key []byte) uint64 { return binary.BigEndian.Uint64(key) }
