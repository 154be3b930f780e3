package s3_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
)

// TestPutFallsBackToSignedPayloads puts objects through a front that
// answers a checksum trailer as an S3 server without that part of the API
// does (501 NotImplemented) and passes everything else to versitygw: the
// first put must be retried signed, later puts must not try the trailer
// again, and the user is told once, without the credentials.
func TestPutFallsBackToSignedPayloads(t *testing.T) {
	srv := s3test.Start(t)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	back := httputil.NewSingleHostReverseProxy(target) // keeps the signed Host header
	var refused atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Content-Sha256") != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" {
			back.ServeHTTP(w, r)
			return
		}
		refused.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotImplemented)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>`+
			`<Message>A header you provided implies functionality that is not implemented.</Message></Error>`)
	}))
	t.Cleanup(front.Close)
	cfg := srv.Config(srv.NewBucket(t), "p")
	cfg.Endpoint = front.URL
	var warnings []string
	cfg.Warn = func(err error) { warnings = append(warnings, err.Error()) }
	s := open(t, cfg)
	for i := range 3 {
		name := fmt.Sprintf("obj-%d", i)
		data := bytes.Repeat([]byte{byte(i), 7, 1}, 50_000)
		if err := s.Put(t.Context(), name, data); err != nil {
			t.Fatalf("Put %s: %v", name, err)
		}
		got, err := s.Get(t.Context(), name, 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get %s = %d bytes, %v; want the %d bytes put", name, len(got), err, len(data))
		}
	}
	if n := refused.Load(); n != 1 {
		t.Fatalf("%d puts tried a checksum trailer; want only the first", n)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "HTTP 501 NotImplemented") ||
		!strings.Contains(warnings[0], "signed from now on") {
		t.Fatalf("warnings %q; want one naming the server's 501 NotImplemented and the signed fallback", warnings)
	}
	for _, secret := range []string{cfg.AccessKeyID, cfg.SecretAccessKey} {
		if strings.Contains(warnings[0], secret) {
			t.Fatalf("warning %q shows a credential", warnings[0])
		}
	}
}
