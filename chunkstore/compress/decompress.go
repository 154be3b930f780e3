package compress

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// decoderMaxWindow is the largest zstd window Decompress accepts. cairn
// writes 2 MiB windows; 8 MiB leaves room to raise that without making old
// readers refuse new repositories, and still bounds a hostile frame.
const decoderMaxWindow = 8 << 20

// decoder is shared by every Decompress call; DecodeAll is safe for
// concurrent use, and one decoder per core suits CPU-bound restores.
var decoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(MaxRawLen),
		zstd.WithDecoderMaxWindow(decoderMaxWindow),
		// Limit output to the capacity Decompress gives it, so the
		// caller's expected length is a hard cap.
		zstd.WithDecodeAllCapLimit(true))
})

// Decompress decodes src, a zstd frame written by Compress, and appends the
// rawLen bytes it holds to dst. rawLen comes from the index and is a hard
// cap: Decompress allocates room for rawLen bytes, no more, and returns an
// error if the frame's declared size or its decoded output differs from
// rawLen, or if src is not a valid frame. A frame that declares no size, or
// a wrong one, and decodes to more is stopped within one 128 KiB block; the
// decoder may regrow its buffer once before it notices. On error the
// returned slice is nil.
func Decompress(dst, src []byte, rawLen int) ([]byte, error) {
	if rawLen < 0 || rawLen > MaxRawLen {
		return nil, fmt.Errorf("decompress: raw length %d is outside 0..%d", rawLen, MaxRawLen)
	}
	if err := checkHeader(src, rawLen); err != nil {
		return nil, fmt.Errorf("decompress %d bytes: %w", len(src), err)
	}
	dec, err := decoder()
	if err != nil {
		return nil, fmt.Errorf("decompress: create decoder: %w", err)
	}
	n := len(dst)
	dst = slices.Grow(dst, rawLen)
	out, err := dec.DecodeAll(src, dst[:n:n+rawLen])
	if err != nil {
		return nil, fmt.Errorf("decompress %d bytes into %d: %w", len(src), rawLen, err)
	}
	if len(out)-n != rawLen {
		return nil, fmt.Errorf("decompress %d bytes: got %d bytes, want %d", len(src), len(out)-n, rawLen)
	}
	return out, nil
}

// checkHeader rejects, before any decoding, a frame that is not a zstd
// frame or whose header declares a content size other than rawLen. cairn's
// frames declare their size unless it is under 256 bytes, where zstd may
// leave it out; for those the output length is checked after decoding.
func checkHeader(src []byte, rawLen int) error {
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return fmt.Errorf("read frame header: %w", err)
	}
	if h.Skippable {
		return errors.New("read frame header: skippable frame where a blob was expected")
	}
	if h.HasFCS && h.FrameContentSize != uint64(rawLen) {
		return fmt.Errorf("frame declares %d bytes, want %d", h.FrameContentSize, rawLen)
	}
	return nil
}
