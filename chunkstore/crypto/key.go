package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/zeebo/blake3"
)

// Sizes of the parts of a sealed object. They are part of the repository
// format; FORMAT.md repeats them.
const (
	// KeySize is the length of a Key: AES-256 and keyed BLAKE3 both take 32.
	KeySize = 32
	// NonceSize is the random prefix of every sealed object.
	NonceSize = 24
	// TagSize is the GCM authentication tag that ends every sealed object.
	TagSize = 16
	// Overhead is how many bytes Seal adds to a plaintext.
	Overhead = NonceSize + TagSize

	// subkeyInputSize is how much of the nonce selects the per-object
	// subkey; the rest is the 12-byte GCM nonce.
	subkeyInputSize = 12
)

// ErrAuth reports that a sealed object did not authenticate. Its text names
// both causes because from the bytes alone they cannot be told apart.
var ErrAuth = errors.New("authentication failed: data was modified or the key is wrong")

// redacted is what every secret prints as, whatever the verb.
const redacted = "[redacted]"

// errMarshalSecret stops a key from being serialised by accident, for example
// as a field of a status struct. Key files use their own explicit encoding.
var errMarshalSecret = errors.New("crypto: refusing to marshal a secret key")

// Key is a 32-byte secret that seals and opens objects. It never prints: every
// fmt verb, slog and encoding/json see "[redacted]" or an error instead.
type Key [KeySize]byte

// NewRandomKey returns a key from crypto/rand.
func NewRandomKey() Key {
	var k Key
	// crypto/rand.Read never fails on supported platforms (since Go 1.24 it
	// crashes the program instead), so there is no error to handle.
	_, _ = rand.Read(k[:])
	return k
}

// String implements fmt.Stringer without revealing the key.
func (Key) String() string { return redacted }

// GoString implements fmt.GoStringer so %#v does not reveal the key.
func (Key) GoString() string { return redacted }

// Format implements fmt.Formatter so that %x, %v, %d and every other verb
// print "[redacted]" instead of the bytes.
func (Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue implements slog.LogValuer; handlers resolve it before encoding,
// so even the JSON handler never sees the bytes.
func (Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON refuses: keys reach storage only sealed, through KeyFile.
func (Key) MarshalJSON() ([]byte, error) { return nil, errMarshalSecret }

// MarshalText refuses for the same reason as MarshalJSON.
func (Key) MarshalText() ([]byte, error) { return nil, errMarshalSecret }

// Seal encrypts and authenticates plaintext and appends the sealed object,
// nonce || ciphertext || tag, to dst. It grows dst at most once; a caller
// that reuses a buffer with room for len(plaintext)+Overhead more bytes
// causes no allocation for the output. The spare capacity of dst must not
// overlap plaintext.
func (k *Key) Seal(dst, plaintext []byte) []byte {
	dst = slices.Grow(dst, Overhead+len(plaintext))
	n := len(dst)
	dst = dst[:n+NonceSize]
	// The nonce is drawn straight into dst, which keeps it off the heap.
	nonce := (*[NonceSize]byte)(dst[n:])
	_, _ = rand.Read(nonce[:]) // never fails; see NewRandomKey
	return k.sealAfterNonce(dst, nonce, plaintext)
}

// sealWithNonce is Seal with the nonce chosen by the caller. Only tests pass a
// fixed nonce, to pin the format with golden bytes.
func (k *Key) sealWithNonce(dst []byte, nonce *[NonceSize]byte, plaintext []byte) []byte {
	dst = slices.Grow(dst, Overhead+len(plaintext))
	dst = append(dst, nonce[:]...)
	return k.sealAfterNonce(dst, nonce, plaintext)
}

// sealAfterNonce appends ciphertext and tag to dst, which already ends with
// the nonce and has room for the rest, so it is not grown again.
func (k *Key) sealAfterNonce(dst []byte, nonce *[NonceSize]byte, plaintext []byte) []byte {
	aead := k.objectAEAD(nonce)
	return aead.Seal(dst, nonce[subkeyInputSize:], plaintext, nil)
}

// Open authenticates and decrypts a sealed object and appends the plaintext
// to dst. Input shorter than Overhead, or that fails authentication, returns
// an error wrapping ErrAuth and a nil slice; no unauthenticated plaintext is
// ever returned. The spare capacity of dst must not overlap sealed.
func (k *Key) Open(dst, sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("open sealed object: %d bytes is shorter than the %d-byte minimum: %w",
			len(sealed), Overhead, ErrAuth)
	}
	nonce := (*[NonceSize]byte)(sealed[:NonceSize])
	aead := k.objectAEAD(nonce)
	out, err := aead.Open(dst, nonce[subkeyInputSize:], sealed[NonceSize:], nil)
	if err != nil {
		return nil, fmt.Errorf("open sealed object of %d bytes: %w", len(sealed), ErrAuth)
	}
	return out, nil
}

// objectAEAD returns AES-256-GCM under the subkey for this nonce:
// BLAKE3-256 keyed with k over nonce[0:12]. GCM with random 96-bit nonces is
// only safe for about 2^32 messages per AES key. Here a (subkey, GCM nonce)
// pair repeats only if all 192 random bits repeat, and each subkey seals
// about one object, so billions of objects stay far inside the bounds.
func (k *Key) objectAEAD(nonce *[NonceSize]byte) cipher.AEAD {
	var subkey [KeySize]byte
	deriveSubkey(k, nonce, &subkey)
	block, err := aes.NewCipher(subkey[:])
	clear(subkey[:])
	if err != nil {
		panic("crypto: aes.NewCipher rejected a 32-byte key: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("crypto: cipher.NewGCM failed with the standard parameters: " + err.Error())
	}
	return aead
}

// keyedHasher is a BLAKE3 hasher keyed with key. NewKeyed allocates and
// clears about 10 KiB, which costs more than sealing a small object, so
// hashers are pooled. A pooled hasher is reused only under the key it was
// made for; a process using several keys just allocates more often.
type keyedHasher struct {
	key Key
	h   *blake3.Hasher
}

var hasherPool sync.Pool // of *keyedHasher

// deriveSubkey writes BLAKE3-256(key=k, nonce[0:12]) into out.
func deriveSubkey(k *Key, nonce *[NonceSize]byte, out *[KeySize]byte) {
	kh, _ := hasherPool.Get().(*keyedHasher)
	if kh != nil && subtle.ConstantTimeCompare(kh.key[:], k[:]) == 1 {
		kh.h.Reset()
	} else {
		h, err := blake3.NewKeyed(k[:])
		if err != nil {
			panic("crypto: blake3 rejected a 32-byte key: " + err.Error())
		}
		kh = &keyedHasher{key: *k, h: h}
	}
	_, _ = kh.h.Write(nonce[:subkeyInputSize])
	kh.h.Sum(out[:0])
	hasherPool.Put(kh)
}
