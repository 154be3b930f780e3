package fault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

var _ blob.Store = (*Store)(nil)

// Op names a Store method.
type Op string

// The operations a Rule can target.
const (
	OpPut    Op = "put"
	OpGet    Op = "get"
	OpStat   Op = "stat"
	OpList   Op = "list"
	OpDelete Op = "delete"
)

var (
	// ErrInjected is what a Rule without its own Err returns. It wraps
	// blob.ErrTransient because that is the failure callers must survive.
	ErrInjected = fmt.Errorf("fault: injected: %w", blob.ErrTransient)
	// ErrKilled is returned by every call once the kill switch trips. It
	// wraps no sentinel, so nothing retries it: the "process" is dead.
	ErrKilled = errors.New("fault: store killed")
)

// Rule describes one fault. The zero Rule fails every call with ErrInjected.
type Rule struct {
	Op     Op     // "" matches every operation
	Prefix string // matches names (for List: the prefix argument) starting with it
	Times  int    // fire on the next Times matching calls; 0 means on every one
	Err    error  // the error to return; nil means ErrInjected unless Delay or Corrupt is set
	// After runs the real call first and then returns Err, like a response
	// lost on the way back: the Put stored the object, the Delete removed it.
	After   bool
	Delay   time.Duration // latency added before the call
	Corrupt bool          // Get only: flip one byte of the returned data
}

type rule struct {
	Rule
	left int // remaining firings when Times > 0
}

// Store is the fault-injecting wrapper. Create it with Wrap.
type Store struct {
	inner blob.Store

	mu        sync.Mutex
	rules     []*rule
	calls     map[Op]int
	killAfter int // -1: kill switch off
	puts      int // Puts that succeeded or are in flight while armed
}

// Wrap returns a Store that passes every call to inner until rules are added.
func Wrap(inner blob.Store) *Store {
	return &Store{inner: inner, calls: make(map[Op]int), killAfter: -1}
}

// Add installs a rule.
func (s *Store) Add(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &rule{Rule: r, left: r.Times})
}

// Clear removes all rules and disarms the kill switch; counters stay.
func (s *Store) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
	s.killAfter = -1
}

// KillAfterPuts lets k more Puts succeed, then fails every call of every
// operation with ErrKilled, as if the process crashed mid-backup.
func (s *Store) KillAfterPuts(k int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killAfter = k
	s.puts = 0
}

// Calls reports how many times op was called, failed calls included.
func (s *Store) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// effect is what the matching rules decided for one call.
type effect struct {
	err     error
	after   bool
	delay   time.Duration
	corrupt bool
}

// begin counts the call, checks the kill switch and collects the rules that
// fire. A Put reserves its place under the kill switch here, so concurrent
// Puts cannot overshoot it; end gives the place back if the Put failed.
func (s *Store) begin(op Op, name string) effect {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	if s.killAfter >= 0 {
		if s.puts >= s.killAfter {
			return effect{err: ErrKilled}
		}
		if op == OpPut {
			s.puts++
		}
	}
	var e effect
	for _, r := range s.rules {
		if (r.Op != "" && r.Op != op) || !strings.HasPrefix(name, r.Prefix) || (r.Times > 0 && r.left == 0) {
			continue
		}
		r.left--
		e.delay += r.Delay
		e.corrupt = e.corrupt || r.Corrupt
		if e.err == nil && (r.Err != nil || (r.Delay == 0 && !r.Corrupt)) {
			e.err = r.Err
			if e.err == nil {
				e.err = ErrInjected
			}
			e.after = r.After
		}
	}
	return e
}

func (s *Store) endPut(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.killAfter >= 0 && s.puts > 0 && !errors.Is(err, ErrKilled) {
		s.puts--
	}
}

// run applies the effect around call.
func run(ctx context.Context, op Op, name string, e effect, call func() error) error {
	if e.delay > 0 {
		t := time.NewTimer(e.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("fault %s %s: delayed: %w", op, name, ctx.Err())
		}
	}
	if e.err != nil && !e.after {
		return fmt.Errorf("fault %s %s: %w", op, name, e.err)
	}
	err := call()
	if err == nil && e.err != nil {
		err = fmt.Errorf("fault %s %s: response lost: %w", op, name, e.err)
	}
	return err
}

// Put stores data unless a rule or the kill switch says otherwise.
func (s *Store) Put(ctx context.Context, name string, data []byte) error {
	err := run(ctx, OpPut, name, s.begin(OpPut, name), func() error {
		return s.inner.Put(ctx, name, data)
	})
	s.endPut(err)
	return err
}

// Get reads through, then corrupts the result if a rule asks for it.
func (s *Store) Get(ctx context.Context, name string, offset, length int64) ([]byte, error) {
	e := s.begin(OpGet, name)
	var data []byte
	err := run(ctx, OpGet, name, e, func() (err error) {
		data, err = s.inner.Get(ctx, name, offset, length)
		return err
	})
	if err != nil {
		return nil, err
	}
	if e.corrupt && len(data) > 0 {
		data[len(data)/2] ^= 0xff
	}
	return data, nil
}

// Stat passes through, subject to the rules.
func (s *Store) Stat(ctx context.Context, name string) (blob.Info, error) {
	var info blob.Info
	err := run(ctx, OpStat, name, s.begin(OpStat, name), func() (err error) {
		info, err = s.inner.Stat(ctx, name)
		return err
	})
	if err != nil {
		return blob.Info{}, err
	}
	return info, nil
}

// List passes through, subject to rules matched against prefix.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	return run(ctx, OpList, prefix, s.begin(OpList, prefix), func() error {
		return s.inner.List(ctx, prefix, fn)
	})
}

// Delete passes through, subject to the rules.
func (s *Store) Delete(ctx context.Context, name string) error {
	return run(ctx, OpDelete, name, s.begin(OpDelete, name), func() error {
		return s.inner.Delete(ctx, name)
	})
}

// Location marks the wrapped location as fault-injected.
func (s *Store) Location() string { return "fault(" + s.inner.Location() + ")" }

// Close closes the inner store.
func (s *Store) Close() error { return s.inner.Close() }
