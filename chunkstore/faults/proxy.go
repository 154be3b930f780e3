package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fault is a kind of failure the proxy injects.
type Fault string

// The faults, each drawn equally often.
const (
	Fault500       Fault = "HTTP 500 InternalError"
	Fault503       Fault = "HTTP 503 SlowDown"
	FaultReset     Fault = "connection reset before an answer"
	FaultSlow      Fault = "slow answer (0.2-1.5 s)"
	FaultTruncated Fault = "answer body cut short"
)

var faultKinds = []Fault{Fault500, Fault503, FaultReset, FaultSlow, FaultTruncated}

// Proxy forwards HTTP to an S3 server and makes a share of the requests
// fail. It keeps the Host header as the client sent it, so request
// signatures made for the proxy's address stay valid at the server.
type Proxy struct {
	URL string

	rp   *httputil.ReverseProxy
	srv  *http.Server
	ln   net.Listener
	done chan struct{}

	mu       sync.Mutex
	rnd      *rand.Rand
	rate     float64
	requests int
	counts   map[Fault]int
	sleep    func(time.Duration)
}

// StartProxy listens on a free loopback port and forwards to upstream,
// failing the given share of requests (drawn from seed).
func StartProxy(upstream string, seed uint64, rate float64) (*Proxy, error) {
	target, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("proxy upstream %q: %w", upstream, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy: listen: %w", err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), ln: ln, done: make(chan struct{}),
		rnd: rand.New(rand.NewPCG(seed, 0x9e0)), rate: rate, counts: map[Fault]int{}, sleep: time.Sleep}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		ModifyResponse: p.modify,
		ErrorLog:       log.New(io.Discard, "", 0),
		// Flush every write: a cut body must reach the client before the
		// connection drops, or it would look like a reset instead.
		FlushInterval: -1,
	}
	p.srv = &http.Server{Handler: p, ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Close stops the proxy and waits for its server loop.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	<-p.done
	return err
}

// SetRate changes the share of failing requests (0 turns faults off).
func (p *Proxy) SetRate(rate float64) {
	p.mu.Lock()
	p.rate = rate
	p.mu.Unlock()
}

// Stats returns the requests seen and the faults injected, by kind.
func (p *Proxy) Stats() (int, map[Fault]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return p.requests, out
}

func (p *Proxy) pick() (Fault, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.rnd.Float64() >= p.rate {
		return "", 0
	}
	f := faultKinds[p.rnd.IntN(len(faultKinds))]
	p.counts[f]++
	return f, time.Duration(200+p.rnd.IntN(1300)) * time.Millisecond
}

type faultKey struct{}

// contextWith marks a request with the fault to apply to its answer.
func contextWith(r *http.Request, f Fault) context.Context {
	return context.WithValue(r.Context(), faultKey{}, f)
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, delay := p.pick()
	switch f {
	case Fault500:
		s3Error(w, http.StatusInternalServerError, "InternalError", "injected by the fault campaign")
		return
	case Fault503:
		s3Error(w, http.StatusServiceUnavailable, "SlowDown", "injected by the fault campaign")
		return
	case FaultReset:
		// Closes the connection with no answer, as a reset does.
		panic(http.ErrAbortHandler)
	case FaultSlow:
		p.sleep(delay)
	}
	if f == FaultTruncated {
		r = r.WithContext(contextWith(r, f))
	}
	p.rp.ServeHTTP(w, r)
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

// modify cuts the body of an answer marked for truncation after half its
// announced length; the reverse proxy then drops the connection, so the
// client sees fewer bytes than Content-Length promised.
func (p *Proxy) modify(resp *http.Response) error {
	if resp.Request.Context().Value(faultKey{}) != FaultTruncated || resp.ContentLength < 2 {
		return nil
	}
	resp.Body = &cutReader{r: resp.Body, left: resp.ContentLength / 2}
	return nil
}

type cutReader struct {
	r    io.ReadCloser
	left int64
}

var errCut = errors.New("body cut short by the fault campaign")

func (c *cutReader) Read(b []byte) (int, error) {
	if c.left <= 0 {
		return 0, errCut
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	return n, err
}

func (c *cutReader) Close() error { return c.r.Close() }

// faultSummary renders the counts in a fixed order.
func faultSummary(counts map[Fault]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d; ", k, counts[Fault(k)])
	}
	return strings.TrimSuffix(b.String(), "; ")
}
