package crypto

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// MasterKey is the repository's secret: every object is sealed under Encrypt.
// It is stored only inside key files, sealed under a password-derived key.
// Like Key it never prints and refuses encoding/json.
type MasterKey struct {
	// Encrypt seals every blob and metadata object in the repository.
	Encrypt Key
}

// String implements fmt.Stringer without revealing the key.
func (MasterKey) String() string { return redacted }

// GoString implements fmt.GoStringer so %#v does not reveal the key.
func (MasterKey) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb prints "[redacted]".
func (MasterKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue implements slog.LogValuer.
func (MasterKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON refuses; the wire form is written only by encodeMasterKey,
// whose output is sealed before it leaves this package.
func (MasterKey) MarshalJSON() ([]byte, error) { return nil, errMarshalSecret }

// masterKeyJSON is the plaintext inside a key file's "data". New secrets are
// added as new fields; a reader that does not know a field ignores it, and the
// repository's format version says which fields a reader must understand.
type masterKeyJSON struct {
	Encrypt []byte `json:"encrypt"` // base64 by encoding/json
}

// encodeMasterKey returns {"encrypt":"<base64>"}. The caller must clear the
// result once it is sealed.
func encodeMasterKey(m *MasterKey) []byte {
	b, err := json.Marshal(masterKeyJSON{Encrypt: m.Encrypt[:]})
	if err != nil {
		panic("crypto: marshal master key: " + err.Error()) // a []byte field cannot fail
	}
	return b
}

// decodeMasterKey parses the plaintext of a key file. The error never quotes
// the input, which holds key bytes.
func decodeMasterKey(b []byte) (MasterKey, error) {
	var wire masterKeyJSON
	if err := json.Unmarshal(b, &wire); err != nil {
		return MasterKey{}, fmt.Errorf("decode master key: malformed JSON (%d bytes)", len(b))
	}
	defer clear(wire.Encrypt)
	if len(wire.Encrypt) != KeySize {
		return MasterKey{}, fmt.Errorf("decode master key: encrypt key is %d bytes, want %d", len(wire.Encrypt), KeySize)
	}
	var m MasterKey
	copy(m.Encrypt[:], wire.Encrypt)
	return m, nil
}
