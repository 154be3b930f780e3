package hooks_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/hooks"
)

// request is what the test server received.
type request struct {
	method, path, contentType, body string
}

// server answers every request with status and answer after delay (or
// until the client goes away), recording what it received.
func server(t *testing.T, status int, answer string, delay time.Duration) (*httptest.Server, func() []request) {
	t.Helper()
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{r.Method, r.URL.Path, r.Header.Get("Content-Type"), string(b)})
		mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []request { mu.Lock(); defer mu.Unlock(); return append([]request(nil), got...) }
}

// podAt is a pod whose IP and port are the test server's, with one HTTP
// pre-hook.
func podAt(t *testing.T, srv *httptest.Server, a hooks.HTTPAction, timeout time.Duration) hooks.PodHooks {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	host, port, _ := net.SplitHostPort(u.Host)
	p, _ := strconv.Atoi(port)
	a.Port, a.Scheme = int32(p), "http"
	return hooks.PodHooks{Pod: hooks.ObjectRef{Namespace: "app", Name: "api-0"}, IP: host,
		Pre: []hooks.Hook{{Source: "test", Timeout: timeout, OnError: v1alpha1.OnErrorFail, HTTP: &a}}}
}

func TestHTTPHooks(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		answer  string
		delay   time.Duration
		action  hooks.HTTPAction
		timeout time.Duration
		want    hooks.Status
		reason  string
	}{
		{name: "status matches", status: 200, answer: `{"frozen":true}`,
			action: hooks.HTTPAction{Path: "/quiesce", Body: `{"mode":"freeze"}`, ExpectStatus: 200},
			want:   hooks.StatusSucceeded},
		{name: "custom expected status", status: 204,
			action: hooks.HTTPAction{Path: "/q", Body: "{}", ExpectStatus: 204}, want: hooks.StatusSucceeded},
		{name: "status mismatch", status: 503, answer: "replica lagging\n",
			action: hooks.HTTPAction{Path: "/q", Body: "{}", ExpectStatus: 200},
			want:   hooks.StatusFailed, reason: "failed: answered 503, want 200: replica lagging"},
		{name: "timeout", status: 200, delay: time.Minute,
			action:  hooks.HTTPAction{Path: "/q", Body: "{}", ExpectStatus: 200},
			timeout: 50 * time.Millisecond, want: hooks.StatusTimedOut, reason: "timed out after 50ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, got := server(t, tc.status, tc.answer, tc.delay)
			if tc.timeout == 0 {
				tc.timeout = 5 * time.Second
			}
			ph := podAt(t, srv, tc.action, tc.timeout)
			out := (&hooks.Runner{HTTP: srv.Client()}).RunPre(context.Background(), []hooks.PodHooks{ph})
			r := out.Results[0]
			if r.Status != tc.want || r.Reason != tc.reason {
				t.Fatalf("status %s reason %q, want %s %q", r.Status, r.Reason, tc.want, tc.reason)
			}
			reqs := got()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests", len(reqs))
			}
			want := request{"POST", tc.action.Path, "application/json", tc.action.Body}
			if reqs[0] != want {
				t.Errorf("server got %+v, want %+v", reqs[0], want)
			}
			if tc.want == hooks.StatusSucceeded && r.Stdout != tc.answer {
				t.Errorf("kept answer %q", r.Stdout)
			}
			if !strings.HasPrefix(r.Target, "POST "+srv.URL+tc.action.Path) {
				t.Errorf("target %q", r.Target)
			}
		})
	}
}

// A hook with a full URL reaches it over TLS with the injected client; a
// failure's message shows neither credentials nor the query.
func TestHTTPHookURL(t *testing.T) {
	var body string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		if r.URL.Query().Get("token") != "T0KEN" {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "https://", "https://admin:PW@", 1) + "/freeze?token=T0KEN"
	ph := hooks.PodHooks{Pod: hooks.ObjectRef{Namespace: "app", Name: "api-0"},
		Pre: []hooks.Hook{{Source: "test", Timeout: 5 * time.Second, OnError: v1alpha1.OnErrorFail,
			HTTP: &hooks.HTTPAction{URL: u, Body: "{}", ExpectStatus: 200}}}}
	out := (&hooks.Runner{HTTP: srv.Client()}).RunPre(context.Background(), []hooks.PodHooks{ph})
	if out.Failed || body != "{}" {
		t.Fatalf("outcome %v, body %q", out.Messages(), body)
	}
	srv.Close() // now the same hook cannot connect
	out = (&hooks.Runner{HTTP: srv.Client()}).RunPre(context.Background(), []hooks.PodHooks{ph})
	msg := out.Err().Error()
	if !strings.Contains(msg, "POST "+srv.URL+"/freeze failed: request:") ||
		strings.Contains(msg, "T0KEN") || strings.Contains(msg, "PW") {
		t.Fatalf("message %q", msg)
	}
}

// A pod without an IP (not running yet) fails its HTTP hook clearly.
func TestHTTPHookWithoutPodIP(t *testing.T) {
	ph := hooks.PodHooks{Pod: hooks.ObjectRef{Namespace: "app", Name: "api-0"},
		Post: []hooks.Hook{{Source: "annotations", Timeout: time.Second, OnError: v1alpha1.OnErrorContinue,
			HTTP: &hooks.HTTPAction{Scheme: "http", Port: 8080, Path: "/resume", Body: "{}", ExpectStatus: 200}}}}
	out := (&hooks.Runner{}).RunPost(context.Background(), []hooks.PodHooks{ph})
	want := "post-hook 0 on pod app/api-0 POST http://<pod IP>:8080/resume failed: the pod has no IP yet (is it running?) (declared by annotations, onError=Continue)"
	if out.Failed || len(out.Messages()) != 1 || out.Messages()[0] != want {
		t.Fatalf("messages %q\nwant %q", out.Messages(), want)
	}
}
