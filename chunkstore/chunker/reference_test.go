package chunker

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	rc "github.com/restic/chunker"
)

// referenceCuts chunks data with github.com/restic/chunker, the reference
// that Splitter must match boundary for boundary.
func referenceCuts(t testing.TB, pol Pol, data []byte) []int {
	t.Helper()
	c := rc.NewWithBoundaries(bytes.NewReader(data), pol, MinSize, MaxSize)
	buf := make([]byte, 0, MaxSize)
	var lens []int
	for {
		ch, err := c.Next(buf)
		if err == io.EOF {
			return lens
		}
		if err != nil {
			t.Fatal(err)
		}
		lens = append(lens, int(ch.Length))
	}
}

// shapes are inputs that stress different paths: random bytes (cuts found by
// the lanes), zeros (only MaxSize cuts), short periodic patterns (digests
// repeat), text-like data and mixtures whose lengths end mid-block.
func shapes(r *rand.Rand) map[string][]byte {
	random := make([]byte, 24<<20+r.IntN(1<<20))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	text := make([]byte, 0, 12<<20)
	words := []string{"cairn ", "volume ", "snapshot ", "pack ", "index ", "\n", "tree ", "blob "}
	for len(text) < 12<<20 {
		text = append(text, words[r.IntN(len(words))]...)
	}
	periodic := bytes.Repeat([]byte("0123456789abcdef0123456789abcdeX"), (9<<20)/32)
	mixed := append(append(append([]byte{}, random[:3<<20]...), make([]byte, 9<<20)...), text[:5<<20+17]...)
	return map[string][]byte{
		"random": random, "zeros": make([]byte, 17<<20+5), "text": text,
		"periodic": periodic, "mixed": mixed, "just over min": random[:MinSize+1],
		"one round": random[:MinSize+lanes*laneBlock+1], "tiny": random[:100],
	}
}

func TestSplitMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pols := []Pol{goldenPol}
	for range 3 {
		p, err := rc.DerivePolynomial(rand.NewChaCha8([32]byte{byte(r.Uint32())}))
		if err != nil {
			t.Fatal(err)
		}
		pols = append(pols, p)
	}
	data := shapes(r)
	for _, pol := range pols {
		s := NewSplitter(pol)
		for name, d := range data {
			t.Run(fmt.Sprintf("%s/%v", name, pol), func(t *testing.T) {
				got, want := cuts(t, s, d), referenceCuts(t, pol, d)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("cuts differ from the reference chunker:\n got %v\nwant %v", got, want)
				}
			})
		}
	}
}

func BenchmarkSplitReference(b *testing.B) {
	data := seeded(SegmentSize, 9)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		referenceCuts(b, goldenPol, data)
	}
}

// Cutting input as it arrives, in pieces of random sizes, gives the chunks
// of splitting it whole.
func TestCutStreamMatchesSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	s := NewSplitter(goldenPol)
	for name, d := range shapes(r) {
		t.Run(name, func(t *testing.T) {
			var got []int
			start, avail := 0, 0
			for start < len(d) {
				if avail < len(d) {
					avail = min(len(d), avail+1+r.IntN(3<<20))
				}
				final := avail == len(d)
				n, ok := s.Cut(d[start:avail], final)
				if !ok {
					if final {
						t.Fatal("Cut undecided on final input")
					}
					continue
				}
				got = append(got, n)
				start += n
			}
			if want := cuts(t, s, d); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("streamed cuts differ from Split:\n got %v\nwant %v", got, want)
			}
		})
	}
}
