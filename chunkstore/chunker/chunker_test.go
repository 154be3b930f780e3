package chunker

import (
	"math/rand/v2"
	"testing"
)

// goldenPol is a fixed irreducible polynomial so boundaries are reproducible.
const goldenPol = Pol(0x3DA3358B4DC173)

func seeded(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func cuts(t *testing.T, s *Splitter, data []byte) []int {
	t.Helper()
	var lens []int
	if err := s.Split(data, func(c []byte) error { lens = append(lens, len(c)); return nil }); err != nil {
		t.Fatal(err)
	}
	return lens
}

func TestSplitGolden(t *testing.T) {
	data := seeded(12<<20, 1)
	got := cuts(t, NewSplitter(goldenPol), data)
	want := goldenLengths
	if len(got) != len(want) {
		t.Fatalf("chunk count = %d %v, want %d %v: chunk boundaries changed, which changes the repository format", len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("chunk %d length = %d, want %d (all: %v)", i, got[i], want[i], got)
		}
	}
}

func TestSplitCases(t *testing.T) {
	cases := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"exactly min", MinSize},
		{"just over min", MinSize + 1},
		{"several chunks", 5 << 20},
		{"over max with zeros", 20 << 20},
	}
	s := NewSplitter(goldenPol)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := seeded(tc.size, 7)
			if tc.name == "over max with zeros" {
				clear(data)
			}
			total := 0
			lens := cuts(t, s, data)
			for i, n := range lens {
				if n > MaxSize {
					t.Fatalf("chunk %d is %d bytes, over MaxSize", i, n)
				}
				if n < MinSize && i != len(lens)-1 {
					t.Fatalf("chunk %d is %d bytes, under MinSize and not last", i, n)
				}
				total += n
			}
			if total != tc.size {
				t.Fatalf("chunks cover %d bytes, want %d", total, tc.size)
			}
			if tc.size == 0 && len(lens) != 0 {
				t.Fatalf("empty input gave %d chunks", len(lens))
			}
		})
	}
}

func TestSplitDeterministicAcrossReuse(t *testing.T) {
	s := NewSplitter(goldenPol)
	a := cuts(t, s, seeded(6<<20, 3))
	_ = cuts(t, s, seeded(3<<20, 4))
	b := cuts(t, s, seeded(6<<20, 3))
	if len(a) != len(b) {
		t.Fatalf("reused splitter gave %v then %v", a, b)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("reused splitter gave %v then %v", a, b)
		}
	}
}

func TestHasherGolden(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i)
	}
	h := NewHasher(key)
	got := h.Sum([]byte("cairn")).String()
	if got != goldenHash {
		t.Fatalf("keyed hash = %s, want %s: chunk IDs changed, which changes the repository format", got, goldenHash)
	}
	if h.Sum([]byte("cairn")).String() != got {
		t.Fatal("hasher is not reusable")
	}
}

func BenchmarkSplit(b *testing.B) {
	data := seeded(SegmentSize, 9)
	s := NewSplitter(goldenPol)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_ = s.Split(data, func([]byte) error { return nil })
	}
}

func BenchmarkHash(b *testing.B) {
	data := seeded(1<<20, 9)
	h := NewHasher([32]byte{1})
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		h.Sum(data)
	}
}
