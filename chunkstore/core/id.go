package core

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// IDSize is the length in bytes of every ID in a repository.
const IDSize = 32

// ID names a blob, pack, index, snapshot or key. Blob IDs are keyed BLAKE3-256
// of the plaintext; pack and file IDs are plain BLAKE3-256 of the stored bytes
// or random, as FORMAT.md says for each kind.
type ID [IDSize]byte

// String returns the lowercase hex form used in object names and JSON.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 8 hex digits, the form shown to people.
func (id ID) Short() string { return hex.EncodeToString(id[:4]) }

// IsNull reports whether id is all zero, which never names a real object.
func (id ID) IsNull() bool { return id == ID{} }

// MarshalText implements encoding.TextMarshaler so IDs appear as hex in JSON.
func (id ID) MarshalText() ([]byte, error) {
	out := make([]byte, 2*IDSize)
	hex.Encode(out, id[:])
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
// It decodes in place: trees hold an ID per chunk, and decoding them is on
// the incremental backup's path.
func (id *ID) UnmarshalText(b []byte) error {
	parsed, err := parseHex(b)
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}

// ParseID parses a full 64-digit hex ID.
func ParseID(s string) (ID, error) { return parseHex([]byte(s)) }

func parseHex(b []byte) (ID, error) {
	var id ID
	if len(b) != 2*IDSize {
		return id, fmt.Errorf("parse id %q: want %d hex digits, got %d", b, 2*IDSize, len(b))
	}
	if _, err := hex.Decode(id[:], b); err != nil {
		return id, fmt.Errorf("parse id %q: %w", b, err)
	}
	return id, nil
}

// RandomID returns a fresh random ID, used for snapshot, key, session and
// index file names where no content hash is wanted.
func RandomID() ID {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return id
}

// BlobType says what a blob inside a pack holds.
type BlobType uint8

const (
	// DataBlob holds a chunk of file or block-device content.
	DataBlob BlobType = 1
	// TreeBlob holds encoded metadata: a directory listing or an extent list.
	TreeBlob BlobType = 2
)

// String returns "data" or "tree".
func (t BlobType) String() string {
	switch t {
	case DataBlob:
		return "data"
	case TreeBlob:
		return "tree"
	}
	return fmt.Sprintf("blobtype(%d)", uint8(t))
}

// Valid reports whether t is one of the defined types.
func (t BlobType) Valid() bool { return t == DataBlob || t == TreeBlob }
