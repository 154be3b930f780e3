package chunker

import (
	"fmt"

	rc "github.com/restic/chunker"
	"github.com/zeebo/blake3"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// Size limits. They match the averages that the measured peers use (512 KiB
// minimum, 1 MiB average, 8 MiB maximum) so dedup ratios compare fairly, and
// the maximum keeps every data blob well under the index's 16 MiB limit.
const (
	MinSize = 512 << 10
	MaxSize = 8 << 20
)

// SegmentSize is the unit of parallel work for large files and block images.
// 32 MiB gives a 2 GiB image 64 independent pieces for the workers while the
// forced cut at each segment start costs about one extra small chunk per 32
// chunks. Changing it moves chunk boundaries, so it is part of the format.
const SegmentSize = 32 << 20

// Pol is a chunking polynomial, stored in the repository config.
type Pol = rc.Pol

// RandomPol returns a fresh irreducible polynomial for a new repository.
func RandomPol() (Pol, error) {
	p, err := rc.RandomPolynomial()
	if err != nil {
		return 0, fmt.Errorf("generate chunker polynomial: %w", err)
	}
	return p, nil
}

// Splitter chunks in-memory segments. Reuse one per worker: the tables for
// the polynomial are computed once.
type Splitter struct {
	tab *rabinTables
}

// NewSplitter returns a Splitter for pol. The polynomial must be one stored
// in a repository config (validated there).
func NewSplitter(pol Pol) *Splitter {
	return &Splitter{tab: newRabinTables(pol)}
}

// Split calls fn with each chunk of data in order. The chunk slices point into
// data, so fn must not keep them after it returns unless data outlives it.
func (s *Splitter) Split(data []byte, fn func(chunk []byte) error) error {
	for len(data) > 0 {
		n := s.tab.nextCut(data)
		if err := fn(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// Cut returns the length of the first chunk of data. With final set, the
// input ends with data. Otherwise more may follow and Cut reports false when
// the first chunk's end depends on it; once data holds MaxSize bytes it
// never does. Cutting a stream piece by piece this way gives the chunks
// Split gives for the whole input.
func (s *Splitter) Cut(data []byte, final bool) (int, bool) {
	return s.tab.cut(data, final)
}

// Hasher computes chunk IDs: BLAKE3-256 keyed with the repository's ID key.
// It is not safe for concurrent use; each worker owns one.
type Hasher struct {
	h *blake3.Hasher
}

// NewHasher returns a Hasher for the 32-byte repository ID key.
func NewHasher(key [32]byte) *Hasher {
	h, err := blake3.NewKeyed(key[:])
	if err != nil {
		panic("blake3 keyed hasher with 32-byte key: " + err.Error())
	}
	return &Hasher{h: h}
}

// Sum returns the ID of data.
func (x *Hasher) Sum(data []byte) core.ID {
	x.h.Reset()
	_, _ = x.h.Write(data)
	var id core.ID
	x.h.Sum(id[:0])
	return id
}
