package location_test

import (
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob/location"
)

func TestCheckEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name, raw, wantErr string
	}{
		{"empty means AWS", "", ""},
		{"http with port", "http://127.0.0.1:7070", ""},
		{"https host", "https://s3.example.com", ""},
		{"trailing slash", "https://s3.example.com/", ""},
		{"bare word", "notaurl", "no scheme"},
		{"bare host and port", "minio:9000", "no scheme"},
		{"other scheme", "ftp://host", `scheme "ftp"`},
		{"no host", "http://", "no host"},
		{"only a port", "http://:9000", "no host"},
		{"path", "https://host/bucket", "only a scheme, host and port"},
		{"query", "https://host?x=1", "only a scheme, host and port"},
		{"bad port", "http://host:99999", "port"},
		{"credentials", "https://AKIA:secret@host", "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := location.CheckEndpoint(tc.raw)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckEndpoint(%q) = %v", tc.raw, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckEndpoint(%q) = %v, want an error containing %q", tc.raw, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error leaks the secret: %v", err)
			}
		})
	}
}
