package compress

import (
	"fmt"
	"testing"
)

// benchInputs are 1 MiB, about the average chunk size.
var benchInputs = []struct {
	name string
	src  []byte
}{
	{"random", randomBytes(1<<20, 1)},
	{"text", textBytes(1<<20, 2)},
	{"base64", base64Bytes(1<<20, 3)},
}

// BenchmarkDecision measures Compress at the Fastest level, decision
// included: on random data this is the cost of the sample check alone.
func BenchmarkDecision(b *testing.B) {
	c := mustNew(b, Fastest)
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			dst := make([]byte, 0, len(in.src))
			b.SetBytes(int64(len(in.src)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = c.Compress(dst[:0], in.src)
			}
		})
	}
}

// BenchmarkSample measures the probe on its own.
func BenchmarkSample(b *testing.B) {
	c := mustNew(b, Fastest)
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.src)))
			b.ReportAllocs()
			for b.Loop() {
				c.sampleCompresses(in.src)
			}
		})
	}
}

func BenchmarkCompress(b *testing.B) {
	for _, l := range levels[1:] {
		c := mustNew(b, l)
		for _, in := range benchInputs[1:] {
			b.Run(fmt.Sprintf("%s/%s", l, in.name), func(b *testing.B) {
				dst := make([]byte, 0, len(in.src))
				b.SetBytes(int64(len(in.src)))
				b.ReportAllocs()
				var out []byte
				for b.Loop() {
					out, _ = c.Compress(dst[:0], in.src)
				}
				b.ReportMetric(float64(len(out))/float64(len(in.src)), "ratio")
			})
		}
	}
}

func BenchmarkDecompress(b *testing.B) {
	for _, l := range levels[1:] {
		c := mustNew(b, l)
		for _, in := range benchInputs[1:] {
			frame, ok := c.Compress(nil, in.src)
			if !ok {
				b.Fatal("input not compressed")
			}
			b.Run(fmt.Sprintf("%s/%s", l, in.name), func(b *testing.B) {
				dst := make([]byte, 0, len(in.src))
				b.SetBytes(int64(len(in.src)))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if dst, err = Decompress(dst[:0], frame, len(in.src)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
