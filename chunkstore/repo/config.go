package repo

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/compress"
	"github.com/cairnbackup/cairn/chunkstore/core"
)

// FormatVersion is the repository format this code reads and writes.
// Version 2 names packs by their header (FORMAT.md §5); version 1
// repositories are read and written as they are, packs named by content.
const FormatVersion = 2

// minFormatVersion is the oldest format this code reads and writes.
const minFormatVersion = 1

// DefaultPackSize is the target pack size. 16 MiB keeps the number of objects
// (and S3 request costs) low while a pack still uploads in well under a
// second on a LAN, and restores can fetch a useful range with one GET.
const DefaultPackSize = 16 << 20

// Config is the repository-wide settings object, stored sealed as "config".
type Config struct {
	Version     int     `json:"version"`
	ID          core.ID `json:"id"`
	Polynomial  string  `json:"chunker_polynomial"`
	IDKey       []byte  `json:"id_key"`
	MinChunk    int     `json:"min_chunk_size"`
	MaxChunk    int     `json:"max_chunk_size"`
	SegmentSize int     `json:"segment_size"`
	PackSize    int     `json:"pack_size"`
	Compression string  `json:"compression"`
}

func newConfig(level compress.Level) (Config, error) {
	pol, err := chunker.RandomPol()
	if err != nil {
		return Config{}, err
	}
	idKey := core.RandomID()
	return Config{
		Version:     FormatVersion,
		ID:          core.RandomID(),
		Polynomial:  strconv.FormatUint(uint64(pol), 16),
		IDKey:       idKey[:],
		MinChunk:    chunker.MinSize,
		MaxChunk:    chunker.MaxSize,
		SegmentSize: chunker.SegmentSize,
		PackSize:    DefaultPackSize,
		Compression: level.String(),
	}, nil
}

// ParseConfig decodes and validates a config's plaintext.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("parse config: %w", err)
	}
	if c.Version < minFormatVersion || c.Version > FormatVersion {
		return c, fmt.Errorf("config: repository format version %d is not supported by this cairn (supports %d to %d); use a matching cairn release", c.Version, minFormatVersion, FormatVersion)
	}
	pol, err := c.Pol()
	if err != nil {
		return c, err
	}
	if !pol.Irreducible() {
		return c, fmt.Errorf("config: chunker polynomial %s is not irreducible", c.Polynomial)
	}
	if len(c.IDKey) != 32 {
		return c, fmt.Errorf("config: id_key has %d bytes, want 32", len(c.IDKey))
	}
	if c.MinChunk != chunker.MinSize || c.MaxChunk != chunker.MaxSize || c.SegmentSize != chunker.SegmentSize {
		return c, fmt.Errorf("config: chunk sizes %d/%d/%d differ from the supported %d/%d/%d",
			c.MinChunk, c.MaxChunk, c.SegmentSize, chunker.MinSize, chunker.MaxSize, chunker.SegmentSize)
	}
	if c.PackSize < 1<<20 || c.PackSize > 512<<20 {
		return c, fmt.Errorf("config: pack size %d is outside 1 MiB..512 MiB", c.PackSize)
	}
	if _, err := compress.ParseLevel(c.Compression); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// Pol returns the chunker polynomial.
func (c Config) Pol() (chunker.Pol, error) {
	v, err := strconv.ParseUint(c.Polynomial, 16, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("config: bad chunker polynomial %q", c.Polynomial)
	}
	return chunker.Pol(v), nil
}

// IDKeyArray returns the chunk-ID key as an array.
func (c Config) IDKeyArray() [32]byte {
	var k [32]byte
	copy(k[:], c.IDKey)
	return k
}
