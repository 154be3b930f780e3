package compress

import (
	"bytes"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// frameOf compresses src with a plain zstd encoder, for inputs Compress
// would store raw.
func frameOf(t testing.TB, src []byte, opts ...zstd.EOption) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(src, nil)
}

// streamFrameOf compresses src as a stream, whose header has no content size.
func streamFrameOf(t testing.TB, src []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecompressRejects(t *testing.T) {
	src := textBytes(200<<10, 1)
	frame, ok := mustNew(t, Fastest).Compress(nil, src)
	if !ok {
		t.Fatal("text not compressed")
	}
	corruptTable := bytes.Clone(frame)
	for i := 8; i < 40; i++ {
		corruptTable[i] ^= 0xff // the first block's header and entropy tables
	}
	badMagic := bytes.Clone(frame)
	badMagic[0] ^= 1
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4}
	for _, tc := range []struct {
		name   string
		src    []byte
		rawLen int
	}{
		{"raw length too small", frame, len(src) - 1},
		{"raw length too large", frame, len(src) + 1},
		{"raw length negative", frame, -1},
		{"raw length over the limit", frame, MaxRawLen + 1},
		{"truncated", frame[:len(frame)/2], len(src)},
		{"header only", frame[:6], len(src)},
		{"empty", nil, 0},
		{"bad magic", badMagic, len(src)},
		{"corrupt block", corruptTable, len(src)},
		{"trailing frame", append(bytes.Clone(frame), frame...), len(src)},
		{"trailing garbage", append(bytes.Clone(frame), 1, 2, 3), len(src)},
		{"skippable frame", skippable, 0},
		{"no content size, raw length too small", streamFrameOf(t, src), len(src) - 1000},
		{"no content size, raw length too large", streamFrameOf(t, src), len(src) + 1},
		{"window too large", frameOf(t, make([]byte, 20<<20), zstd.WithWindowSize(16<<20)), 20 << 20},
		{"plain text", []byte("not a zstd frame at all"), 23},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Decompress(nil, tc.src, tc.rawLen)
			if err == nil {
				t.Fatalf("Decompress succeeded with %d bytes", len(out))
			}
			if out != nil {
				t.Fatal("Decompress returned data with an error")
			}
		})
	}
}

// TestDecompressCapsOutput checks that the output buffer is sized to rawLen:
// even when dst has far more room, the decoder may not use it.
func TestDecompressCapsOutput(t *testing.T) {
	src := make([]byte, 1<<20)
	frame := frameOf(t, src)
	out, err := Decompress(make([]byte, 0, 4<<20), frame, 1<<20)
	if err != nil || len(out) != 1<<20 {
		t.Fatalf("Decompress = %d bytes, %v", len(out), err)
	}
	if cap(out) != 1<<20 {
		t.Errorf("output capacity %d, want exactly the raw length", cap(out))
	}
}

func TestDecompressAcceptsOtherEncoders(t *testing.T) {
	src := textBytes(3<<20, 7)
	for name, opts := range map[string][]zstd.EOption{
		"with checksum":   {zstd.WithEncoderCRC(true)},
		"best":            {zstd.WithEncoderLevel(zstd.SpeedBestCompression)},
		"8 MiB window":    {zstd.WithWindowSize(8 << 20)},
		"single segment":  {zstd.WithSingleSegment(true)},
		"small window":    {zstd.WithWindowSize(64 << 10)},
		"no entropy code": {zstd.WithNoEntropyCompression(true)},
	} {
		got, err := Decompress(nil, frameOf(t, src, opts...), len(src))
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%s: Decompress: %v", name, err)
		}
	}
	for _, size := range []int{100, 200 << 10} {
		src := textBytes(size, 8)
		if got, err := Decompress(nil, streamFrameOf(t, src), size); err != nil || !bytes.Equal(got, src) {
			t.Errorf("stream frame of %d bytes, no content size: %v", size, err)
		}
	}
}

// TestLargeBlobRoundTrip covers blobs past the decoder's window limit,
// which must still decode because the encoder's window is smaller.
func TestLargeBlobRoundTrip(t *testing.T) {
	src := append(textBytes(6<<20, 9), make([]byte, 6<<20)...)
	out, ok := mustNew(t, Fastest).Compress(nil, src)
	if !ok {
		t.Fatal("not compressed")
	}
	got, err := Decompress(nil, out, len(src))
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("Decompress: %v", err)
	}
}

// TestGoldenFrame decodes a frame written by the first version of this
// package, so a decoder change that stops reading old repositories fails.
// The encoder's output is deliberately not pinned: any valid frame is
// acceptable, and zstd versions may compress differently.
func TestGoldenFrame(t *testing.T) {
	frame, err := os.ReadFile("testdata/text-64k-seed42.zst")
	if err != nil {
		t.Fatal(err)
	}
	want := textBytes(64<<10, 42)
	got, err := Decompress(nil, frame, len(want))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("golden frame: %v", err)
	}
}
