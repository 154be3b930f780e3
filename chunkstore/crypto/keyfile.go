package crypto

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/argon2"
)

// KeyFileVersion is the only key file version this package reads and writes.
const KeyFileVersion = 1

// MaxKeyFileSize bounds a key file; a loader reads at most this many bytes
// and ParseKeyFile rejects anything larger. Real files are about 400 bytes.
const MaxKeyFileSize = 64 << 10

// SaltSize is the length of the random argon2id salt in every key file.
const SaltSize = 16

// maxSealedMasterKey bounds "data". The sealed master key is about 100 bytes
// today; the bound leaves room for many more secrets.
const maxSealedMasterKey = 16 << 10

// ErrWrongPassword reports that a password does not open a key file. Callers
// wrap it with the key's ID. It never includes the password.
var ErrWrongPassword = errors.New("wrong password: the password does not open this key; " +
	"check CAIRN_PASSWORD or --password-file")

// KeyMeta is the informational part of a key file. It helps a person tell
// keys apart in "cairn key list"; nothing relies on it.
type KeyMeta struct {
	Hostname string
	Username string
	// Created is stored in UTC at one-second precision. Zero means now.
	Created time.Time
}

// KeyFile is one password's wrapping of the master key, stored unencrypted as
// keys/<id> in the repository. Its JSON form is the repository format:
//
//	{"version":1,"created":"2026-11-26T10:00:00Z","hostname":"node-1",
//	 "username":"root","kdf":{"algorithm":"argon2id","time":3,
//	 "memory_kib":65536,"threads":2},"salt":"<base64>","data":"<base64>"}
//
// Data is Seal(argon2id(password, salt, kdf), {"encrypt":"<base64>"}).
type KeyFile struct {
	Version  int       `json:"version"`
	Created  time.Time `json:"created"`
	Hostname string    `json:"hostname"`
	Username string    `json:"username"`
	KDF      KDFParams `json:"kdf"`
	Salt     []byte    `json:"salt"`
	Data     []byte    `json:"data"`
}

// NewKeyFile wraps master under password with fresh random salt and nonce.
// It derives the wrapping key once, so it costs one KDF run.
func NewKeyFile(master MasterKey, password []byte, params KDFParams, meta KeyMeta) (*KeyFile, error) {
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("new key file: %w", err)
	}
	if len(password) == 0 {
		return nil, errors.New("new key file: the password is empty")
	}
	created := meta.Created
	if created.IsZero() {
		created = time.Now()
	}
	kf := &KeyFile{
		Version:  KeyFileVersion,
		Created:  created.UTC().Truncate(time.Second),
		Hostname: meta.Hostname,
		Username: meta.Username,
		KDF:      params,
		Salt:     make([]byte, SaltSize),
	}
	_, _ = rand.Read(kf.Salt) // crypto/rand.Read never fails
	wrap := deriveWrappingKey(password, kf.Salt, params)
	plain := encodeMasterKey(&master)
	kf.Data = wrap.Seal(nil, plain)
	clear(plain)
	clear(wrap[:])
	return kf, nil
}

// Marshal returns the JSON stored in the repository.
func (kf *KeyFile) Marshal() ([]byte, error) {
	if err := kf.validate(); err != nil {
		return nil, fmt.Errorf("marshal key file: %w", err)
	}
	b, err := json.Marshal(kf)
	if err != nil {
		return nil, fmt.Errorf("marshal key file: %w", err)
	}
	return b, nil
}

// ParseKeyFile parses and checks a key file read from a repository, which may
// be hostile: it checks the version, the KDF and its bounds, the salt and the
// size of the sealed data before any KDF runs.
//
// Unknown fields are ignored, so a later version can add informational
// fields (a label, say) without breaking older readers. A change that a
// reader must understand bumps "version", which older readers reject.
func ParseKeyFile(b []byte) (*KeyFile, error) {
	if len(b) > MaxKeyFileSize {
		return nil, fmt.Errorf("parse key file: %d bytes is larger than the %d-byte limit", len(b), MaxKeyFileSize)
	}
	var kf KeyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, fmt.Errorf("parse key file: %w", err)
	}
	if err := kf.validate(); err != nil {
		return nil, fmt.Errorf("parse key file: %w", err)
	}
	return &kf, nil
}

// validate checks everything Unwrap relies on.
func (kf *KeyFile) validate() error {
	if kf.Version != KeyFileVersion {
		return fmt.Errorf("unsupported version %d (this cairn reads version %d; a newer cairn may read it)",
			kf.Version, KeyFileVersion)
	}
	if err := kf.KDF.Validate(); err != nil {
		return err
	}
	if len(kf.Salt) != SaltSize {
		return fmt.Errorf("salt is %d bytes, want %d", len(kf.Salt), SaltSize)
	}
	if len(kf.Data) < Overhead || len(kf.Data) > maxSealedMasterKey {
		return fmt.Errorf("sealed data is %d bytes, want %d to %d", len(kf.Data), Overhead, maxSealedMasterKey)
	}
	return nil
}

// Unwrap derives the wrapping key from password and opens the master key. A
// wrong password returns an error wrapping ErrWrongPassword. It costs one
// KDF run, bounded by the limits ParseKeyFile enforced.
func (kf *KeyFile) Unwrap(password []byte) (MasterKey, error) {
	if err := kf.validate(); err != nil {
		return MasterKey{}, fmt.Errorf("unwrap key file: %w", err)
	}
	wrap := deriveWrappingKey(password, kf.Salt, kf.KDF)
	plain, err := wrap.Open(nil, kf.Data)
	clear(wrap[:])
	if err != nil {
		// With a valid file, a failed open means the password is wrong;
		// a tampered file looks the same and gets the same advice.
		return MasterKey{}, fmt.Errorf("unwrap key file: %w", ErrWrongPassword)
	}
	defer clear(plain)
	m, err := decodeMasterKey(plain)
	if err != nil {
		return MasterKey{}, fmt.Errorf("unwrap key file: %w", err)
	}
	return m, nil
}

// deriveWrappingKey runs argon2id. params must have passed Validate.
func deriveWrappingKey(password, salt []byte, params KDFParams) Key {
	raw := argon2.IDKey(password, salt, params.Time, params.MemoryKiB, params.Threads, KeySize)
	var k Key
	copy(k[:], raw)
	clear(raw)
	return k
}
