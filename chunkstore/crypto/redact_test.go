package crypto

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// leakKey has bytes whose hex, decimal and raw forms are easy to spot.
func leakKey() Key {
	var k Key
	for i := range k {
		k[i] = 0xab
	}
	return k
}

// leaked reports whether s shows the key in any common encoding.
func leaked(s string, k Key) bool {
	return strings.Contains(s, hex.EncodeToString(k[:4])) ||
		strings.Contains(s, "171") || // 0xab in decimal
		strings.Contains(s, "\xab\xab")
}

func TestSecretsDoNotPrint(t *testing.T) {
	k := leakKey()
	m := MasterKey{Encrypt: k}
	holder := struct {
		Name string
		K    Key
		M    *MasterKey
	}{"holder", k, &m}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%08b"} {
		for name, v := range map[string]any{"Key": k, "*Key": &k, "MasterKey": m, "*MasterKey": &m, "struct": holder} {
			out := fmt.Sprintf(verb, v)
			if leaked(out, k) || !strings.Contains(out, redacted) {
				t.Errorf("fmt %s of %s = %q", verb, name, out)
			}
		}
	}
	if k.String() != redacted || k.GoString() != redacted || m.String() != redacted || m.GoString() != redacted {
		t.Error("String or GoString reveals a key")
	}
}

func TestSecretsDoNotLog(t *testing.T) {
	k := leakKey()
	m := MasterKey{Encrypt: k}
	var buf bytes.Buffer
	// The timestamp could contain "171" by chance; drop it.
	opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	for name, h := range map[string]slog.Handler{
		"json": slog.NewJSONHandler(&buf, opts),
		"text": slog.NewTextHandler(&buf, opts),
	} {
		buf.Reset()
		slog.New(h).Info("opened", "key", k, "master", m, "ptr", &m)
		if leaked(buf.String(), k) || strings.Count(buf.String(), redacted) != 3 {
			t.Errorf("%s handler logged %q", name, buf.String())
		}
	}
}

func TestSecretsRefuseJSON(t *testing.T) {
	k := leakKey()
	for name, v := range map[string]any{
		"Key":       k,
		"MasterKey": MasterKey{Encrypt: k},
		"field":     struct{ K Key }{k},
		"map key":   map[string]Key{"a": k},
	} {
		out, err := json.Marshal(v)
		if err == nil || leaked(string(out), k) {
			t.Errorf("json.Marshal(%s) = %q, %v; want an error", name, out, err)
		}
		if err != nil && leaked(err.Error(), k) {
			t.Errorf("json error for %s leaks: %v", name, err)
		}
	}
}
