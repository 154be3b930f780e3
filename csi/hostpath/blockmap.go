package hostpath

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/zeebo/blake3"
	"golang.org/x/sync/errgroup"
)

// A block map records, for each fixed-size block of a block snapshot, the
// BLAKE3-256 hash of its content, or 32 zero bytes when the block is all
// zeros ("unallocated"). It is written once, when the snapshot is cut, and
// answers GetMetadataAllocated (non-zero blocks) and GetMetadataDelta
// (blocks whose hashes differ) without reading any image.
//
// File format (little endian):
//
//	magic     8 bytes  "CAIRNBM1"
//	blockSize uint32
//	reserved  uint32   zero
//	capacity  uint64   image size in bytes; the last block may be short
//	entries   ceil(capacity/blockSize) × 32 bytes
//	checksum  32 bytes BLAKE3-256 of everything before it
type blockMap struct {
	blockSize int64
	capacity  int64
	hashes    []byte // 32 bytes per block
}

const (
	blockMapMagic  = "CAIRNBM1"
	blockMapHeader = 24
	hashSize       = 32
	// maxBlockMapBlocks bounds what parseBlockMap allocates: 2^26 blocks
	// is a 4 PiB volume at 64 KiB.
	maxBlockMapBlocks = 1 << 26
)

var zeroHash [hashSize]byte

func (m *blockMap) blocks() int64 { return int64(len(m.hashes) / hashSize) }

func (m *blockMap) hash(i int64) []byte { return m.hashes[i*hashSize : (i+1)*hashSize] }

func (m *blockMap) allocated(i int64) bool { return !bytes.Equal(m.hash(i), zeroHash[:]) }

func (m *blockMap) marshal() []byte {
	b := make([]byte, blockMapHeader, blockMapHeader+len(m.hashes)+hashSize)
	copy(b, blockMapMagic)
	binary.LittleEndian.PutUint32(b[8:], uint32(m.blockSize))
	binary.LittleEndian.PutUint64(b[16:], uint64(m.capacity))
	b = append(b, m.hashes...)
	sum := blake3.Sum256(b)
	return append(b, sum[:]...)
}

func parseBlockMap(b []byte) (*blockMap, error) {
	if len(b) < blockMapHeader+hashSize || string(b[:8]) != blockMapMagic {
		return nil, errors.New("not a block map")
	}
	body, sum := b[:len(b)-hashSize], b[len(b)-hashSize:]
	if want := blake3.Sum256(body); !bytes.Equal(sum, want[:]) {
		return nil, errors.New("block map checksum mismatch")
	}
	bs := int64(binary.LittleEndian.Uint32(b[8:]))
	capacity := binary.LittleEndian.Uint64(b[16:])
	if bs < 512 || bs&(bs-1) != 0 || capacity > 1<<62 || binary.LittleEndian.Uint32(b[12:]) != 0 {
		return nil, fmt.Errorf("block map header: block size %d, capacity %d", bs, capacity)
	}
	n := (int64(capacity) + bs - 1) / bs
	if n > maxBlockMapBlocks || int64(len(body)-blockMapHeader) != n*hashSize {
		return nil, fmt.Errorf("block map holds %d bytes of entries, want %d blocks", len(body)-blockMapHeader, n)
	}
	return &blockMap{blockSize: bs, capacity: int64(capacity), hashes: body[blockMapHeader:]}, nil
}

func readBlockMap(path string) (*blockMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read block map %s: %w", path, err)
	}
	m, err := parseBlockMap(b)
	if err != nil {
		return nil, fmt.Errorf("read block map %s: %w", path, err)
	}
	return m, nil
}

// computeBlockMap hashes the image at path. Holes are skipped without
// reading (they are zero by definition), and the data blocks are hashed by
// a few workers in parallel because hashing, not I/O, bounds a cut from
// page cache.
func computeBlockMap(ctx context.Context, path string, blockSize int64) (*blockMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open image %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat image %s: %w", path, err)
	}
	m := &blockMap{blockSize: blockSize, capacity: fi.Size()}
	n := (m.capacity + blockSize - 1) / blockSize
	m.hashes = make([]byte, n*hashSize)
	var blocks []int64 // blocks that hold at least one data extent
	last := int64(-1)
	err = forEachExtent(f, m.capacity, func(off, end int64) error {
		for b := max(off/blockSize, last+1); b*blockSize < end; b++ {
			blocks = append(blocks, b)
			last = b
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("map extents of %s: %w", path, err)
	}
	if err := hashBlocks(ctx, f, m, blocks); err != nil {
		return nil, fmt.Errorf("hash blocks of %s: %w", path, err)
	}
	return m, nil
}

// hashBlocks fills m's entries for the listed blocks; each worker takes
// every w-th block, so the work divides evenly without a queue.
func hashBlocks(ctx context.Context, f *os.File, m *blockMap, blocks []int64) error {
	workers := min(runtime.GOMAXPROCS(0), 4)
	g, ctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			buf := make([]byte, m.blockSize)
			zero := make([]byte, m.blockSize)
			for i := w; i < len(blocks); i += workers {
				if i%256 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				b := blocks[i]
				n, err := f.ReadAt(buf, b*m.blockSize)
				if err != nil && n != int(min(m.blockSize, m.capacity-b*m.blockSize)) {
					return fmt.Errorf("read block %d: %w", b, err)
				}
				if bytes.Equal(buf[:n], zero[:n]) {
					continue // all zeros: stays unallocated
				}
				sum := blake3.Sum256(buf[:n])
				copy(m.hash(b), sum[:])
			}
			return nil
		})
	}
	return g.Wait()
}

// extent is a byte range [off, off+size) of a volume.
type extent struct{ off, size int64 }

// mergedRanges turns the blocks selected by want into byte ranges,
// merging neighbours and clipping the last block to the capacity. It
// drops what ends at or before start and trims a range that straddles it,
// so a stream resumed at start begins exactly there.
func mergedRanges(m *blockMap, start int64, want func(i int64) bool) []extent {
	var out []extent
	for i := start / m.blockSize; i < m.blocks(); i++ {
		if !want(i) {
			continue
		}
		off := max(i*m.blockSize, start)
		end := min((i+1)*m.blockSize, m.capacity)
		if n := len(out); n > 0 && out[n-1].off+out[n-1].size == off {
			out[n-1].size += end - off
			continue
		}
		out = append(out, extent{off, end - off})
	}
	return out
}
