package crypto

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var testMeta = KeyMeta{
	Hostname: "node-1",
	Username: "root",
	Created:  time.Date(2026, 11, 26, 10, 0, 0, 123, time.FixedZone("CET", 3600)),
}

func newTestKeyFile(t *testing.T, master MasterKey, password string) *KeyFile {
	t.Helper()
	kf, err := NewKeyFile(master, []byte(password), FastKDFForTests, testMeta)
	if err != nil {
		t.Fatalf("NewKeyFile: %v", err)
	}
	return kf
}

func TestKeyFileRoundTrip(t *testing.T) {
	master := MasterKey{Encrypt: NewRandomKey()}
	b, err := newTestKeyFile(t, master, "correct horse").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	kf, err := ParseKeyFile(b)
	if err != nil {
		t.Fatalf("ParseKeyFile(%s): %v", b, err)
	}
	got, err := kf.Unwrap([]byte("correct horse"))
	if err != nil {
		t.Fatalf("Unwrap: %v", err)
	}
	if got.Encrypt != master.Encrypt {
		t.Fatal("Unwrap returned a different master key")
	}
	if want := "2026-11-26T09:00:00Z"; !kf.Created.Equal(testMeta.Created.Truncate(time.Second)) ||
		!strings.Contains(string(b), `"created":"`+want+`"`) {
		t.Fatalf("created not stored as UTC seconds %s: %s", want, b)
	}
}

// TestKeyFileJSONShape pins the field names and types of the format.
func TestKeyFileJSONShape(t *testing.T) {
	b, err := newTestKeyFile(t, MasterKey{Encrypt: testKey()}, "pw").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"version", "created", "hostname", "username", "kdf", "salt", "data"} {
		if _, ok := generic[field]; !ok {
			t.Errorf("key file has no %q field: %s", field, b)
		}
	}
	if len(generic) != 7 {
		t.Errorf("key file has %d fields, want 7: %s", len(generic), b)
	}
	const kdf = `"kdf":{"algorithm":"argon2id","time":1,"memory_kib":64,"threads":1}`
	if !strings.Contains(string(b), kdf) || !strings.HasPrefix(string(b), `{"version":1,`) {
		t.Errorf("key file JSON is not in the documented form: %s", b)
	}
}

func TestUnwrapWrongPassword(t *testing.T) {
	kf := newTestKeyFile(t, MasterKey{Encrypt: testKey()}, "secret-pass")
	_, err := kf.Unwrap([]byte("secret-pasS"))
	if !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("Unwrap error = %v, want ErrWrongPassword", err)
	}
	msg := err.Error()
	for _, want := range []string{"password does not open this key", "CAIRN_PASSWORD", "--password-file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "secret-pas") {
		t.Errorf("error leaks the password: %q", msg)
	}
}

func TestUnwrapTamperedFile(t *testing.T) {
	kf := newTestKeyFile(t, MasterKey{Encrypt: testKey()}, "pw")
	kf.Salt[0] ^= 1
	if _, err := kf.Unwrap([]byte("pw")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("Unwrap with changed salt: %v, want ErrWrongPassword", err)
	}
}

func TestUnwrapMalformedMasterKey(t *testing.T) {
	kf := newTestKeyFile(t, MasterKey{}, "pw")
	wrap := deriveWrappingKey([]byte("pw"), kf.Salt, kf.KDF)
	kf.Data = wrap.Seal(nil, []byte(`{"encrypt":"c2hvcnQ="}`))
	_, err := kf.Unwrap([]byte("pw"))
	if err == nil || errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), "5 bytes") {
		t.Fatalf("Unwrap of a short master key: %v", err)
	}
}

func TestNewKeyFileRejects(t *testing.T) {
	for _, tc := range []struct {
		name     string
		password string
		params   KDFParams
	}{
		{"empty password", "", FastKDFForTests},
		{"zero params", "pw", KDFParams{}},
		{"scrypt", "pw", KDFParams{Algorithm: "scrypt", Time: 1, MemoryKiB: 64, Threads: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewKeyFile(MasterKey{}, []byte(tc.password), tc.params, testMeta); err == nil {
				t.Fatal("NewKeyFile succeeded")
			}
		})
	}
}

func TestNewKeyFileDefaultsCreated(t *testing.T) {
	before := time.Now().Add(-time.Second)
	kf, err := NewKeyFile(MasterKey{}, []byte("pw"), FastKDFForTests, KeyMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if kf.Created.Before(before) || kf.Created.Location() != time.UTC {
		t.Fatalf("Created = %v, want about now in UTC", kf.Created)
	}
}

// validKeyFileJSON returns a parseable key file with one field replaced.
func validKeyFileJSON(t *testing.T, field string, value any) []byte {
	t.Helper()
	b, err := newTestKeyFile(t, MasterKey{Encrypt: testKey()}, "pw").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if value == nil {
		delete(m, field)
	} else {
		m[field] = value
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func kdfJSON(alg string, time, mem, threads int) map[string]any {
	return map[string]any{"algorithm": alg, "time": time, "memory_kib": mem, "threads": threads}
}

func TestParseKeyFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		input   []byte
		wantErr string // empty: must parse
	}{
		{"valid", validKeyFileJSON(t, "unused", nil), ""},
		{"unknown field ignored", validKeyFileJSON(t, "label", "laptop"), ""},
		{"version 2", validKeyFileJSON(t, "version", 2), "unsupported version 2"},
		{"no version", validKeyFileJSON(t, "version", nil), "unsupported version 0"},
		{"version as string", validKeyFileJSON(t, "version", "1"), "cannot unmarshal"},
		{"other kdf", validKeyFileJSON(t, "kdf", kdfJSON("scrypt", 1, 64, 1)), `"scrypt" is not supported`},
		{"no kdf", validKeyFileJSON(t, "kdf", nil), "is not supported"},
		{"time zero", validKeyFileJSON(t, "kdf", kdfJSON("argon2id", 0, 64, 1)), "kdf time 0"},
		{"time huge", validKeyFileJSON(t, "kdf", kdfJSON("argon2id", 101, 64, 1)), "kdf time 101"},
		{"memory huge", validKeyFileJSON(t, "kdf", kdfJSON("argon2id", 1, 4<<20+1, 1)), "kdf memory"},
		{"memory below lanes", validKeyFileJSON(t, "kdf", kdfJSON("argon2id", 1, 15, 2)), "kdf memory 15"},
		{"memory overflows uint32", validKeyFileJSON(t, "kdf", kdfJSON("argon2id", 1, 1<<32, 1)), "cannot unmarshal"},
		{"threads zero", validKeyFileJSON(t, "kdf", kdfJSON("argon2id", 1, 64, 0)), "kdf threads 0"},
		{"threads 256", validKeyFileJSON(t, "kdf", kdfJSON("argon2id", 1, 4096, 256)), "cannot unmarshal"},
		{"short salt", validKeyFileJSON(t, "salt", "AAAA"), "salt is 3 bytes"},
		{"no salt", validKeyFileJSON(t, "salt", nil), "salt is 0 bytes"},
		{"bad base64", validKeyFileJSON(t, "salt", "!!"), "illegal base64"},
		{"short data", validKeyFileJSON(t, "data", "AAAA"), "sealed data is 3 bytes"},
		{"bad created", validKeyFileJSON(t, "created", "yesterday"), "cannot parse"},
		{"not JSON", []byte("keyfile"), "invalid character"},
		{"trailing garbage", append(validKeyFileJSON(t, "unused", nil), 'x'), "invalid character"},
		{"too large", make([]byte, MaxKeyFileSize+1), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kf, err := ParseKeyFile(tc.input)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseKeyFile: %v", err)
				}
				if _, err := kf.Unwrap([]byte("pw")); err != nil {
					t.Fatalf("Unwrap: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ParseKeyFile error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestDefaultKDFIsValid(t *testing.T) {
	for name, p := range map[string]KDFParams{"default": DefaultKDF, "fast": FastKDFForTests} {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestGoldenKeyFile opens a key file written by the first version of this
// code, so a change to the key file format or the KDF fails loudly. Its
// argon2id step was cross-checked with Python's cryptography package.
func TestGoldenKeyFile(t *testing.T) {
	b, err := os.ReadFile("testdata/keyfile-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	kf, err := ParseKeyFile(b)
	if err != nil {
		t.Fatalf("ParseKeyFile: %v", err)
	}
	want := KeyFile{
		Version:  1,
		Created:  time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC),
		Hostname: "golden-host",
		Username: "golden-user",
		KDF:      KDFParams{Algorithm: "argon2id", Time: 2, MemoryKiB: 256, Threads: 2},
	}
	if kf.Version != want.Version || !kf.Created.Equal(want.Created) || kf.Hostname != want.Hostname ||
		kf.Username != want.Username || kf.KDF != want.KDF {
		t.Errorf("parsed %+v, want %+v", *kf, want)
	}
	master, err := kf.Unwrap([]byte("cairn golden password"))
	if err != nil {
		t.Fatalf("Unwrap: %v", err)
	}
	if master.Encrypt != testKey() {
		t.Fatal("golden key file unwrapped to a different master key")
	}
}
