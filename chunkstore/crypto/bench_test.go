package crypto

import (
	"fmt"
	"testing"
)

var benchSizes = []int{256, 64 << 10, 1 << 20}

func BenchmarkSeal(b *testing.B) {
	key := NewRandomKey()
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			plain := make([]byte, size)
			dst := make([]byte, 0, size+Overhead)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				dst = key.Seal(dst[:0], plain)
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	key := NewRandomKey()
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			sealed := key.Seal(nil, make([]byte, size))
			dst := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = key.Open(dst[:0], sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnwrapDefaultKDF measures what opening a repository costs a user.
func BenchmarkUnwrapDefaultKDF(b *testing.B) {
	kf, err := NewKeyFile(MasterKey{Encrypt: NewRandomKey()}, []byte("pw"), DefaultKDF, KeyMeta{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kf.Unwrap([]byte("pw")); err != nil {
			b.Fatal(err)
		}
	}
}
