package crypto

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// FuzzParseKeyFile checks that hostile key files never panic, and that any
// file that parses also marshals and parses back to the same thing.
// Unwrap is not called: a KDF run per input would make fuzzing crawl.
func FuzzParseKeyFile(f *testing.F) {
	golden, err := os.ReadFile("testdata/keyfile-v1.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":1,"kdf":{"algorithm":"argon2id","time":1,"memory_kib":8,"threads":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		kf, err := ParseKeyFile(b)
		if err != nil {
			return
		}
		if err := kf.KDF.Validate(); err != nil {
			t.Fatalf("parsed a key file with bad KDF params: %v", err)
		}
		out, err := kf.Marshal()
		if err != nil {
			t.Fatalf("parsed key file does not marshal: %v", err)
		}
		again, err := ParseKeyFile(out)
		if err != nil {
			t.Fatalf("marshalled key file does not parse: %v\n%s", err, out)
		}
		if again.KDF != kf.KDF || !bytes.Equal(again.Salt, kf.Salt) || !bytes.Equal(again.Data, kf.Data) {
			t.Fatalf("key file changed in a round trip:\n%s", out)
		}
	})
}

// FuzzOpen checks that Open never panics and only ever returns plaintext
// for inputs that really were sealed under the key.
func FuzzOpen(f *testing.F) {
	key := testKey()
	nonce := testNonce()
	f.Add([]byte{})
	f.Add(make([]byte, Overhead))
	f.Add(key.sealWithNonce(nil, &nonce, nil))
	f.Add(key.sealWithNonce(nil, &nonce, []byte("a sealed fuzz seed")))
	f.Fuzz(func(t *testing.T, sealed []byte) {
		out, err := key.Open(nil, sealed)
		if err != nil {
			if !errors.Is(err, ErrAuth) || out != nil {
				t.Fatalf("Open failed with %v and %d bytes", err, len(out))
			}
			return
		}
		if len(out) != len(sealed)-Overhead {
			t.Fatalf("Open returned %d bytes from %d sealed", len(out), len(sealed))
		}
	})
}
