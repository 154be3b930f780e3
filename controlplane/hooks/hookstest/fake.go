// Package hookstest has in-memory fakes for testing code that runs hooks:
// an Executor that records every call with its start and end time and can
// be told to fail or hang, and a clock whose readings strictly increase.
package hookstest

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnbackup/cairn/controlplane/hooks"
)

// Call is one command the fake ran.
type Call struct {
	Pod        hooks.ObjectRef
	Container  string
	Command    []string
	Start, End time.Time
	Err        error
}

// Response is what the fake does for matching commands.
type Response struct {
	Stdout, Stderr string
	// Err is returned after Delay.
	Err error
	// Delay is waited (or ctx's end, whichever is first) before answering.
	Delay time.Duration
	// Hang blocks until ctx is done and returns its error.
	Hang bool
}

type rule struct {
	pod, substr string
	resp        Response
}

// Exec is an in-memory hooks.Executor. By default every command succeeds
// at once with no output. The zero value is ready to use.
type Exec struct {
	// Clock stamps calls; nil uses the wall clock.
	Clock hooks.Clock

	mu    sync.Mutex
	rules []rule
	calls []Call
}

var _ hooks.Executor = (*Exec)(nil)

// On sets the response for commands run on pod ("namespace/name", or ""
// for any pod) whose words, joined by spaces, contain substr ("" for any).
// A later rule overrides an earlier one that also matches.
func (f *Exec) On(pod, substr string, resp Response) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, rule{pod: pod, substr: substr, resp: resp})
}

// Exec runs the command as the matching rule says and records the call.
func (f *Exec) Exec(ctx context.Context, pod hooks.ObjectRef, container string, cmd []string) (string, string, error) {
	c := Call{Pod: pod, Container: container, Command: append([]string(nil), cmd...), Start: f.now()}
	resp := f.match(pod, cmd)
	var err error
	switch {
	case resp.Hang:
		<-ctx.Done()
		err = ctx.Err()
	case resp.Delay > 0:
		t := time.NewTimer(resp.Delay)
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-t.C:
		}
		t.Stop()
	}
	if err == nil {
		err = resp.Err
	}
	c.End, c.Err = f.now(), err
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	return resp.Stdout, resp.Stderr, err
}

func (f *Exec) match(pod hooks.ObjectRef, cmd []string) Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	joined := strings.Join(cmd, " ")
	for i := len(f.rules) - 1; i >= 0; i-- {
		r := f.rules[i]
		if (r.pod == "" || r.pod == pod.String()) && strings.Contains(joined, r.substr) {
			return r.resp
		}
	}
	return Response{}
}

// Calls returns the calls that have ended, in the order they ended.
func (f *Exec) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

func (f *Exec) now() time.Time {
	if f.Clock == nil {
		return time.Now()
	}
	return f.Clock.Now()
}

// Ticks is a clock whose every reading is one nanosecond after the one
// before, from a fixed base. Readings taken one after another, in any
// goroutines, are strictly ordered as they were taken, which lets tests
// prove ordering without sleeping.
type Ticks struct{ n atomic.Int64 }

var _ hooks.Clock = (*Ticks)(nil)

// Now returns the next reading.
func (t *Ticks) Now() time.Time {
	return time.Unix(1_700_000_000, 0).Add(time.Duration(t.n.Add(1)))
}
