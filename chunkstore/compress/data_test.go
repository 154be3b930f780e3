package compress

import (
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"strings"
)

// Seeded inputs, so a changed decision is a real change and not luck.

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

var words = strings.Fields(`the a volume snapshot backup restore cluster node pod
	namespace deployment of to and in is for with on that by this be are from
	or as at an it controller storage data chunk pack index key file directory
	func return if err nil string int struct type package import go var const
	metadata labels annotations spec status name uid resourceVersion kind`)

// textBytes is word salad with punctuation and line breaks: LZ matches on
// the repeated words and a skewed byte distribution, like logs or source.
func textBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(words[r.IntN(len(words))])
		switch r.IntN(12) {
		case 0:
			sb.WriteString(".\n")
		case 1:
			sb.WriteString(", ")
		default:
			sb.WriteByte(' ')
		}
	}
	return []byte(sb.String()[:n])
}

// hexBytes has no repeats at all, only 16 distinct byte values: only
// entropy coding saves anything (about half).
func hexBytes(n int, seed uint64) []byte {
	return []byte(hex.EncodeToString(randomBytes(n/2+1, seed))[:n])
}

// base64Bytes is like a Kubernetes Secret or a PEM bundle: 6 bits per byte,
// no repeats, about 25% to gain from entropy coding.
func base64Bytes(n int, seed uint64) []byte {
	return []byte(base64.StdEncoding.EncodeToString(randomBytes(n, seed))[:n])
}

// interleave alternates pieces of a and b, each `piece` bytes long.
func interleave(a, b []byte, piece int) []byte {
	out := make([]byte, 0, len(a))
	for off := 0; off < len(a); off += piece {
		src := a
		if (off/piece)%2 == 1 {
			src = b
		}
		out = append(out, src[off:min(off+piece, len(a))]...)
	}
	return out
}
