package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// debounce gathers the burst of informer events one status write causes
// (a work item and its parent) into one re-render.
const debounce = 100 * time.Millisecond

// maxStream ends a stream after this long; the browser reconnects at
// once, and so passes the token check again (a revoked token stops
// streaming within this time, not only at the next page load).
const maxStream = 10 * time.Minute

// keepAlive is how often an idle stream sends a comment, so proxies and
// port-forwards do not close it as idle.
const keepAlive = 15 * time.Second

// notifier wakes every waiter on each change: waiters take the current
// channel, bump closes it and makes a new one.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func newNotifier() *notifier { return &notifier{ch: make(chan struct{})} }

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *notifier) bump() {
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.ch)
	n.ch = make(chan struct{})
}

// watched are the kinds the pages show; a change of any wakes the streams.
func watched() []client.Object {
	return []client.Object{&v1alpha1.Backup{}, &v1alpha1.Restore{}, &v1alpha1.Schedule{},
		&v1alpha1.BackupLocation{}, &v1alpha1.VolumeBackup{}, &v1alpha1.VolumeRestore{}}
}

// watch adds an event handler to the cache's informer of each watched
// kind (the informers the controllers share; the cache starts any that
// no controller uses). stop removes the handlers.
func (s *Server) watch(ctx context.Context) (stop func(), err error) {
	type reg struct {
		inf toolscache.ResourceEventHandlerRegistration
		src interface {
			RemoveEventHandler(toolscache.ResourceEventHandlerRegistration) error
		}
	}
	var regs []reg
	stop = func() {
		for _, r := range regs {
			_ = r.src.RemoveEventHandler(r.inf) // the informer is going away too
		}
	}
	h := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.changed(obj) },
		UpdateFunc: func(_, obj any) { s.changed(obj) },
		DeleteFunc: func(any) { s.changes.bump() },
	}
	for _, obj := range watched() {
		inf, err := s.deps.Cache.GetInformer(ctx, obj)
		if err != nil {
			stop()
			return nil, fmt.Errorf("dashboard: informer for %T: %w", obj, err)
		}
		r, err := inf.AddEventHandler(h)
		if err != nil {
			stop()
			return nil, fmt.Errorf("dashboard: watch %T: %w", obj, err)
		}
		regs = append(regs, reg{inf: r, src: inf})
	}
	return stop, nil
}

func (s *Server) changed(obj any) {
	if loc, ok := obj.(*v1alpha1.BackupLocation); ok {
		s.figures.notice(loc)
	}
	s.changes.bump()
}

// wantsStream reports a request from EventSource: the page's own URL
// asked for as a stream of its content.
func wantsStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// stream sends the page's content whenever it changes: on a change of the
// objects (after the debounce) and every LiveInterval, for ages and ETAs.
// Only content that differs from what was last sent is sent.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, build builder) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx ingress: do not buffer the stream
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()
	tick := time.NewTicker(s.cfg.LiveInterval)
	defer tick.Stop()
	end := time.NewTimer(maxStream)
	defer end.Stop()
	var last string
	lastSent := time.Now()
	for {
		changed := s.changes.wait()
		if html, err := s.pages.content(build(r)); err == nil && html != last {
			writeEvent(w, html)
			last, lastSent = html, time.Now()
			fl.Flush()
		} else if time.Since(lastSent) > keepAlive {
			fmt.Fprint(w, ": keep-alive\n\n")
			lastSent = time.Now()
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-tick.C:
		case <-changed:
			select {
			case <-r.Context().Done():
				return
			case <-time.After(debounce):
			}
		}
	}
}

// writeEvent writes one message event; each line of data is its own
// data: field, which EventSource joins with newlines.
func writeEvent(w http.ResponseWriter, data string) {
	var b bytes.Buffer
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.TrimSuffix(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, _ = w.Write(b.Bytes())
}
