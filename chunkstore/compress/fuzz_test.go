package compress

import (
	"bytes"
	"testing"
)

// fuzzMaxRawLen keeps fuzzed raw lengths small, so inputs exercise the
// decoder rather than the allocator.
const fuzzMaxRawLen = 1 << 20

// FuzzDecompress checks that no input makes Decompress panic, and that any
// success returns exactly rawLen bytes.
func FuzzDecompress(f *testing.F) {
	c := mustNew(f, Fastest)
	for _, src := range [][]byte{textBytes(5000, 1), make([]byte, 70_000), hexBytes(40_000, 2)} {
		frame, ok := c.Compress(nil, src)
		if !ok {
			f.Fatal("seed did not compress")
		}
		f.Add(frame, uint32(len(src)))
	}
	f.Add([]byte{}, uint32(0))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd}, uint32(10))
	f.Fuzz(func(t *testing.T, src []byte, rawLen uint32) {
		n := int(rawLen % (fuzzMaxRawLen + 1))
		out, err := Decompress([]byte("pre"), src, n)
		if err != nil {
			if out != nil {
				t.Fatal("Decompress returned data with an error")
			}
			return
		}
		if len(out) != 3+n || string(out[:3]) != "pre" {
			t.Fatalf("Decompress returned %d bytes, want %d after the prefix", len(out)-3, n)
		}
	})
}

// FuzzRoundTrip checks that whatever Compress keeps, Decompress restores.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello hello hello hello hello hello"), uint8(Fastest))
	f.Add(textBytes(probeMinLen+7, 3), uint8(Better))
	f.Add(randomBytes(100, 4), uint8(Default))
	compressors := make([]*Compressor, len(levels))
	for i, l := range levels {
		compressors[i] = mustNew(f, l)
	}
	f.Fuzz(func(t *testing.T, src []byte, level uint8) {
		c := compressors[int(level)%len(compressors)]
		out, compressed := c.Compress(nil, src)
		if !compressed {
			return
		}
		if len(out) >= len(src) {
			t.Fatalf("kept %d compressed bytes for %d raw", len(out), len(src))
		}
		got, err := Decompress(nil, out, len(src))
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("round trip at %s failed: %v", c.Level(), err)
		}
	})
}
