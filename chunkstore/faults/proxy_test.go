package faults

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The proxy must inject each kind of fault so that a client sees it, pass
// everything else through untouched, and keep the client's Host header.
func TestProxyInjectsEachFault(t *testing.T) {
	body := strings.Repeat("x", 1000)
	var hosts []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host)
		_, _ = io.WriteString(w, body)
	}))
	defer up.Close()
	p, err := StartProxy(up.URL, 1, 1.0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.sleep = func(time.Duration) {}
	seen := map[string]int{}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 200 {
		resp, err := client.Get(p.URL + "/bucket/key")
		if err != nil {
			seen["reset"]++
			continue
		}
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == 500 && strings.Contains(string(b), "InternalError"):
			seen["500"]++
		case resp.StatusCode == 503 && strings.Contains(string(b), "SlowDown"):
			seen["503"]++
		case errors.Is(rerr, io.ErrUnexpectedEOF) && len(b) == len(body)/2:
			seen["truncated"]++
		case rerr == nil && string(b) == body:
			seen["slow"]++
		default:
			t.Fatalf("unexpected answer: status %d, %d bytes, %v", resp.StatusCode, len(b), rerr)
		}
	}
	requests, counts := p.Stats()
	if requests != 200 || counts[Fault500] != seen["500"] || counts[Fault503] != seen["503"] ||
		counts[FaultReset] != seen["reset"] || counts[FaultTruncated] != seen["truncated"] || counts[FaultSlow] != seen["slow"] {
		t.Fatalf("proxy counted %v over %d requests; the client saw %v", counts, requests, seen)
	}
	for k, n := range seen {
		if n == 0 {
			t.Fatalf("no %s in 200 requests: %v", k, seen)
		}
	}
	for _, h := range hosts {
		if h != strings.TrimPrefix(p.URL, "http://") {
			t.Fatalf("upstream saw Host %q, want the proxy's %q", h, p.URL)
		}
	}
	p.SetRate(0)
	resp, err := client.Get(p.URL + "/x")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("with faults off: %v %v", resp, err)
	}
	resp.Body.Close()
}
