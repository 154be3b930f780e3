package compress

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// MaxRawLen is the largest blob Compress compresses and Decompress accepts.
// Data blobs are at most 8 MiB; the margin is for metadata. Larger input is
// stored raw, so everything written stays readable.
const MaxRawLen = 64 << 20

// encoderWindow is the zstd window for whole blobs. Measured on 1-8 MiB blobs
// of Go source and of a Go binary, 2 MiB compresses within 0.3% of 8 MiB at
// every level, while each encoder keeps twice its window in history
// buffers: 4 MiB instead of 16 MiB, times GOMAXPROCS encoders. (The
// encoder's low-memory mode would halve that but moves the whole history
// every 128 KiB block, about 20% more CPU on large blobs.)
const encoderWindow = 2 << 20

// The incompressibility check. A blob of at least probeMinLen bytes is judged
// by samplePieces pieces of pieceLen bytes, spread evenly from its first byte
// to its last, copied together and compressed with the fast probe encoder.
// 8 KiB of random data takes about 4 µs to probe, so a 1 MiB random blob is
// rejected at well over 100 GB/s. Compressible data pays for compressing
// 8 KiB twice: under 2% for data chunks of 512 KiB or more. Below
// probeMinLen the probe would be a large share of the work: measured here,
// a 64 KiB blob costs about 32 µs to compress outright if random and about
// as much again with the probe if text, and small files are mostly text.
const (
	samplePieces = 8
	pieceLen     = 1 << 10
	sampleLen    = samplePieces * pieceLen
	probeMinLen  = 8 * sampleLen
)

// Savings thresholds, as divisors of the input length. A blob is stored
// compressed only if that saves at least 1/32 (about 3%): below that, the
// space won is not worth running the decoder on every restore of the blob.
// The sample must save 1/64: it has only 8 KiB of context, so it
// compresses worse than the whole blob, and its bar is set lower to avoid
// skipping blobs that would have cleared 1/32. Random data saves nothing
// (zstd stores it as raw blocks), so it stays far from either bar.
const (
	keepDivisor   = 32
	sampleDivisor = 64
)

// Compressor compresses blobs at one level. It is safe for concurrent use;
// at most GOMAXPROCS calls compress at once and others wait for an encoder,
// since compression is CPU-bound and each encoder holds 5 to 9 MiB.
type Compressor struct {
	level Level
	enc   *zstd.Encoder // whole blobs; nil when Off
	probe *zstd.Encoder // samples; nil when Off
	bufs  sync.Pool     // *probeBuffers
}

// probeBuffers is the scratch space of one probe, pooled so that the check
// allocates nothing.
type probeBuffers struct {
	sample [sampleLen]byte
	out    []byte
}

// New returns a Compressor for level.
func New(level Level) (*Compressor, error) {
	if !level.valid() {
		return nil, fmt.Errorf("new compressor: unknown compression level %d", int(level))
	}
	c := &Compressor{level: level}
	if level == Off {
		return c, nil
	}
	var err error
	c.enc, err = zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level.zstdLevel()),
		zstd.WithWindowSize(encoderWindow),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		// The fastest level would otherwise store literals raw when
		// it finds few matches, leaving base64 and hex uncompressed.
		// Random data, which that shortcut exists for, is already
		// turned away by the probe.
		zstd.WithAllLitEntropyCompression(true),
		// The frame checksum would be redundant: sealed blobs are
		// authenticated, and blob IDs are hashes of the raw bytes.
		zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, fmt.Errorf("new compressor at level %s: %w", level, err)
	}
	c.probe, err = newProbeEncoder()
	if err != nil {
		return nil, fmt.Errorf("new compressor at level %s: probe: %w", level, err)
	}
	c.bufs.New = func() any { return &probeBuffers{out: make([]byte, 0, sampleLen+sampleLen/8)} }
	return c, nil
}

// newProbeEncoder returns the encoder that judges samples. All-literal
// entropy coding is on because the fastest level otherwise stores literals
// raw when it finds few matches, and a sample of base64, hex or machine code
// would then look incompressible although Huffman coding alone saves 20-50%.
func newProbeEncoder() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithAllLitEntropyCompression(true),
		zstd.WithWindowSize(32<<10),
		zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithEncoderCRC(false))
}

// Level returns the level c was made with.
func (c *Compressor) Level() Level { return c.level }

// Compress decides whether src is worth compressing and, if so, compresses
// it. When compressed is true, out is dst with one zstd frame appended.
// Otherwise out is src itself, neither copied nor appended to dst, and the
// blob is to be stored raw: with level Off, for empty input or input over
// MaxRawLen, when the sample looks incompressible, and when compressing the
// whole blob saves less than 1/32. Pass dst[:0] of a reused buffer with
// room for len(src) bytes to avoid allocating; its spare capacity must not
// overlap src.
func (c *Compressor) Compress(dst, src []byte) (out []byte, compressed bool) {
	if c.enc == nil || len(src) == 0 || len(src) > MaxRawLen {
		return src, false
	}
	if len(src) >= probeMinLen && !c.sampleCompresses(src) {
		return src, false
	}
	out = c.enc.EncodeAll(src, dst)
	if saved := len(src) - (len(out) - len(dst)); saved < len(src)/keepDivisor || saved <= 0 {
		return src, false
	}
	return out, true
}

// sampleCompresses compresses a sample of src, which must be at least
// probeMinLen long, and reports whether it saved at least 1/sampleDivisor.
func (c *Compressor) sampleCompresses(src []byte) bool {
	buf := c.bufs.Get().(*probeBuffers)
	defer c.bufs.Put(buf)
	sample := gatherSample(&buf.sample, src)
	buf.out = c.probe.EncodeAll(sample, buf.out[:0])
	return len(buf.out) <= len(sample)-len(sample)/sampleDivisor
}

// gatherSample copies samplePieces pieces of src into sample, the first at
// the start of src, the last ending within 7 bytes of its end and the rest
// evenly between, so that a compressible header, trailer or middle is seen.
func gatherSample(sample *[sampleLen]byte, src []byte) []byte {
	stride := (len(src) - pieceLen) / (samplePieces - 1)
	for i := range samplePieces {
		copy(sample[i*pieceLen:(i+1)*pieceLen], src[i*stride:])
	}
	return sample[:]
}
