package crypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/zeebo/blake3"
)

// testKey returns a fixed key 0x00, 0x01, ... 0x1f.
func testKey() Key {
	var k Key
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

// testNonce returns a fixed nonce 0x80, 0x81, ... 0x97.
func testNonce() [NonceSize]byte {
	var n [NonceSize]byte
	for i := range n {
		n[i] = byte(0x80 + i)
	}
	return n
}

func TestSealOpenRoundTrip(t *testing.T) {
	key := NewRandomKey()
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"one AES block", 16},
		{"odd size", 1000},
		{"1 MiB", 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain := bytes.Repeat([]byte{0xa5, 0x17, 0x3c}, tc.size/3+1)[:tc.size]
			sealed := key.Seal(nil, plain)
			if len(sealed) != len(plain)+Overhead {
				t.Fatalf("sealed length %d, want %d", len(sealed), len(plain)+Overhead)
			}
			got, err := key.Open(nil, sealed)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("Open returned different bytes")
			}
		})
	}
}

func TestSealOpenAppendToDst(t *testing.T) {
	key := testKey()
	prefix := []byte("prefix:")
	buf := make([]byte, len(prefix), 1024)
	copy(buf, prefix)
	sealed := key.Seal(buf, []byte("hello"))
	if !bytes.HasPrefix(sealed, prefix) {
		t.Fatal("Seal lost the contents of dst")
	}
	if &sealed[0] != &buf[0] {
		t.Fatal("Seal reallocated although dst had room")
	}
	out := make([]byte, 3, 64)
	copy(out, "ok:")
	got, err := key.Open(out, sealed[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "ok:hello" {
		t.Fatalf("Open appended wrongly: %q", got)
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	key := testKey()
	a, b := key.Seal(nil, []byte("same")), key.Seal(nil, []byte("same"))
	if bytes.Equal(a[:NonceSize], b[:NonceSize]) || bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
}

func TestOpenRejects(t *testing.T) {
	key := testKey()
	nonce := testNonce()
	sealed := key.sealWithNonce(nil, &nonce, []byte("some plaintext here"))
	other := NewRandomKey()
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	for _, tc := range []struct {
		name  string
		key   *Key
		input []byte
	}{
		{"wrong key", &other, sealed},
		{"flipped subkey nonce", &key, flip(0)},
		{"flipped gcm nonce", &key, flip(NonceSize - 1)},
		{"flipped ciphertext", &key, flip(NonceSize + 2)},
		{"flipped tag", &key, flip(len(sealed) - 1)},
		{"truncated", &key, sealed[:len(sealed)-1]},
		{"extended", &key, append(bytes.Clone(sealed), 0)},
		{"shorter than overhead", &key, sealed[:Overhead-1]},
		{"empty", &key, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.Open(nil, tc.input)
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("Open error = %v, want ErrAuth", err)
			}
			if got != nil {
				t.Fatal("Open returned plaintext along with an error")
			}
		})
	}
}

// TestGoldenSeal pins the byte format: if it fails, repositories written
// before the change can no longer be read. The AES-GCM step of this vector
// was cross-checked with Python's cryptography package.
func TestGoldenSeal(t *testing.T) {
	key := testKey()
	nonce := testNonce()
	plain := []byte("cairn sealed object golden vector v1")

	var subkey [KeySize]byte
	deriveSubkey(&key, &nonce, &subkey)
	const wantSubkey = "406c7457c66dc79d899e75537c5e769bbf20a57dbda7fdbfd1dadf07113edbc5"
	if got := hex.EncodeToString(subkey[:]); got != wantSubkey {
		t.Fatalf("subkey changed:\n got %s\nwant %s", got, wantSubkey)
	}

	got := hex.EncodeToString(key.sealWithNonce(nil, &nonce, plain))
	const want = "808182838485868788898a8b8c8d8e8f90919293949596974a0a8b4422ccf73c98693c5fe24a4bd38a6bf54f244bad14c66a3527dca56f079e6475c7133a14f66768204314b10346272afabc"
	if got != want {
		t.Fatalf("sealed bytes changed:\n got %s\nwant %s", got, want)
	}
}

// TestConstructionMatchesDoc rebuilds a sealed object from the description in
// doc.go with the primitives alone, so the doc and the code cannot drift.
func TestConstructionMatchesDoc(t *testing.T) {
	key := testKey()
	nonce := testNonce()
	plain := []byte("the construction is documented precisely")

	h, err := blake3.NewKeyed(key[:])
	if err != nil {
		t.Fatal(err)
	}
	h.Write(nonce[:12])
	subkey := h.Sum(nil)
	block, err := aes.NewCipher(subkey)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	want := gcm.Seal(append([]byte(nil), nonce[:]...), nonce[12:], plain, nil)

	if got := key.sealWithNonce(nil, &nonce, plain); !bytes.Equal(got, want) {
		t.Fatalf("Seal differs from the documented construction:\n got %x\nwant %x", got, want)
	}
}

// TestPooledHashersFollowTheKey interleaves keys so a pooled hasher made for
// one key is offered to the other.
func TestPooledHashersFollowTheKey(t *testing.T) {
	a, b := testKey(), NewRandomKey()
	nonce := testNonce()
	want := a.sealWithNonce(nil, &nonce, []byte("x"))
	for range 3 {
		sealedB := b.Seal(nil, []byte("y"))
		if got := a.sealWithNonce(nil, &nonce, []byte("x")); !bytes.Equal(got, want) {
			t.Fatal("seal under key a changed after using key b")
		}
		if _, err := a.Open(nil, sealedB); !errors.Is(err, ErrAuth) {
			t.Fatal("key a opened an object sealed under key b")
		}
		if _, err := b.Open(nil, sealedB); err != nil {
			t.Fatal(err)
		}
	}
}
