package compress

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

var levels = []Level{Off, Fastest, Default, Better}

func mustNew(t testing.TB, l Level) *Compressor {
	t.Helper()
	c, err := New(l)
	if err != nil {
		t.Fatalf("New(%s): %v", l, err)
	}
	return c
}

func TestParseLevel(t *testing.T) {
	for _, l := range levels {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	for _, bad := range []string{"", "Fastest", "best", "3", "level(9)"} {
		if _, err := ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) succeeded", bad)
		}
	}
	if s := Level(9).String(); s != "level(9)" {
		t.Errorf("Level(9).String() = %q", s)
	}
	if _, err := New(Level(9)); err == nil {
		t.Error("New(Level(9)) succeeded")
	}
}

func TestRoundTripEveryLevel(t *testing.T) {
	inputs := map[string][]byte{
		"empty":       {},
		"one byte":    {'x'},
		"small text":  textBytes(300, 1),
		"zeros 1MiB":  make([]byte, 1<<20),
		"text 1MiB":   textBytes(1<<20, 2),
		"text 8MiB":   textBytes(8<<20, 3),
		"random 1MiB": randomBytes(1<<20, 4),
		"hex 256KiB":  hexBytes(256<<10, 5),
	}
	for _, l := range levels {
		c := mustNew(t, l)
		for name, src := range inputs {
			t.Run(l.String()+"/"+name, func(t *testing.T) {
				orig := bytes.Clone(src)
				out, compressed := c.Compress(nil, src)
				if !bytes.Equal(src, orig) {
					t.Fatal("Compress modified its input")
				}
				if !compressed {
					if len(src) > 0 && &out[0] != &src[0] {
						t.Fatal("raw result is not src itself")
					}
					return
				}
				if l == Off {
					t.Fatal("level off compressed")
				}
				got, err := Decompress(nil, out, len(src))
				if err != nil {
					t.Fatalf("Decompress: %v", err)
				}
				if !bytes.Equal(got, src) {
					t.Fatal("round trip changed the data")
				}
			})
		}
	}
}

// TestDecision pins which inputs are stored compressed. A blob that
// compresses must never be skipped by the sample check, and random data must
// be stored raw.
func TestDecision(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name  string
		src   []byte
		want  bool
		ratio float64 // if compressed, at most this ratio
	}{
		{"random", randomBytes(mib, 1), false, 0},
		{"random small", randomBytes(4<<10, 2), false, 0},
		{"random just over probe size", randomBytes(probeMinLen, 3), false, 0},
		{"zeros", make([]byte, mib), true, 0.01},
		{"zeros small", make([]byte, 100), true, 0.5},
		{"text", textBytes(mib, 4), true, 0.45},
		{"text small", textBytes(2<<10, 5), true, 0.7},
		{"hex of random", hexBytes(mib, 6), true, 0.6},
		{"base64 of random", base64Bytes(mib, 7), true, 0.8},
		{"text and random in 16 KiB stripes", interleave(textBytes(mib, 8), randomBytes(mib, 9), 16<<10), true, 0.8},
		{"random then zeros", append(randomBytes(mib/2, 10), make([]byte, mib/2)...), true, 0.55},
		{"zeros then random", append(make([]byte, mib/2), randomBytes(mib/2, 11)...), true, 0.55},
		{"random with a text header", append(textBytes(4<<10, 12), randomBytes(mib, 13)...), false, 0},
		{"random repeated", bytes.Repeat(randomBytes(4<<10, 14), 256), true, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, l := range levels[1:] {
				c := mustNew(t, l)
				out, compressed := c.Compress(nil, tc.src)
				if compressed != tc.want {
					t.Fatalf("level %s: compressed = %v, want %v (sample says %v)", l, compressed, tc.want,
						len(tc.src) >= probeMinLen && c.sampleCompresses(tc.src))
				}
				if r := float64(len(out)) / float64(len(tc.src)); compressed && r > tc.ratio {
					t.Fatalf("level %s: ratio %.3f, want at most %.3f", l, r, tc.ratio)
				}
			}
		})
	}
}

// TestSampleRejectsRandom checks the probe on its own: random data must be
// turned away before the whole blob is compressed.
func TestSampleRejectsRandom(t *testing.T) {
	c := mustNew(t, Fastest)
	for _, n := range []int{probeMinLen, 1 << 20, 8 << 20} {
		if c.sampleCompresses(randomBytes(n, uint64(n))) {
			t.Errorf("sample of %d random bytes looks compressible", n)
		}
	}
}

func TestGatherSampleSpansBlob(t *testing.T) {
	src := make([]byte, 100_000)
	for i := range src {
		src[i] = byte(i / 1000)
	}
	var buf [sampleLen]byte
	s := gatherSample(&buf, src)
	if s[0] != src[0] || s[len(s)-1] != src[len(src)-1] {
		t.Fatalf("sample does not cover both ends: first %d, last %d", s[0], s[len(s)-1])
	}
	s = gatherSample(&buf, src[:probeMinLen])
	if !bytes.Equal(s[:pieceLen], src[:pieceLen]) {
		t.Fatal("first piece is not the start of the blob")
	}
}

func TestCompressAppendsToDst(t *testing.T) {
	c := mustNew(t, Default)
	src := textBytes(64<<10, 1)
	dst := make([]byte, 3, len(src))
	copy(dst, "hdr")
	out, compressed := c.Compress(dst, src)
	if !compressed || string(out[:3]) != "hdr" || &out[0] != &dst[0] {
		t.Fatalf("Compress did not append into dst (compressed %v)", compressed)
	}
	got, err := Decompress(slices.Clone(out[:3]), out[3:], len(src))
	if err != nil || string(got[:3]) != "hdr" || !bytes.Equal(got[3:], src) {
		t.Fatalf("Decompress did not append to dst: %v", err)
	}
}

func TestCompressConcurrent(t *testing.T) {
	c := mustNew(t, Fastest)
	src := textBytes(256<<10, 9)
	done := make(chan error)
	for range 8 {
		go func() {
			for range 10 {
				out, ok := c.Compress(nil, src)
				if !ok {
					done <- errNotCompressed
					return
				}
				if _, err := Decompress(nil, out, len(src)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

var errNotCompressed = errors.New("text was not compressed")
