package retry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/blobtest"
	"github.com/cairnbackup/cairn/chunkstore/blob/fault"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/blob/retry"
)

// fakeSleep records the waits instead of sleeping.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	return ctx.Err()
}

func setup(t *testing.T) (*fault.Store, *retry.Store, *fakeSleep) {
	t.Helper()
	fs := &fakeSleep{}
	f := fault.Wrap(mem.New())
	r := retry.Wrap(f, retry.Policy{Attempts: 5, UnavailableAttempts: 2, Base: 10 * time.Millisecond, Max: 40 * time.Millisecond, Sleep: fs.sleep})
	return f, r, fs
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(*testing.T) blob.Store { return retry.Wrap(mem.New(), retry.Policy{}) })
}

func TestRetriesByErrorKind(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		times     int // 0: always
		wantCalls int
		wantOK    bool
	}{
		{"transient then success", blob.ErrTransient, 3, 4, true},
		{"transient always", blob.ErrTransient, 0, 5, false},
		{"unavailable always", blob.ErrUnavailable, 0, 2, false},
		{"unavailable once", blob.ErrUnavailable, 1, 2, true},
		{"not found", blob.ErrNotFound, 0, 1, false},
		{"permission", blob.ErrPermission, 0, 1, false},
		{"location missing", blob.ErrLocationMissing, 0, 1, false},
		{"no space", blob.ErrNoSpace, 0, 1, false},
		{"range", blob.ErrRange, 0, 1, false},
		{"unclassified", errors.New("weird"), 0, 1, false},
		{"canceled", context.Canceled, 0, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, r, _ := setup(t)
			f.Add(fault.Rule{Op: fault.OpPut, Times: tc.times, Err: tc.err})
			err := r.Put(t.Context(), "obj", []byte("x"))
			if (err == nil) != tc.wantOK {
				t.Fatalf("Put = %v, want ok=%v", err, tc.wantOK)
			}
			if err != nil && !errors.Is(err, tc.err) {
				t.Errorf("Put = %v, does not wrap %v", err, tc.err)
			}
			if got := f.Calls(fault.OpPut); got != tc.wantCalls {
				t.Errorf("inner Put called %d times, want %d", got, tc.wantCalls)
			}
			if !tc.wantOK && tc.wantCalls > 1 && !strings.Contains(err.Error(), fmt.Sprintf("after %d attempts", tc.wantCalls)) {
				t.Errorf("error %q does not give the attempt count", err)
			}
		})
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	f, r, fs := setup(t)
	f.Add(fault.Rule{Op: fault.OpGet, Err: blob.ErrTransient})
	_, _ = r.Get(t.Context(), "obj", 0, -1)
	ceilings := []time.Duration{10, 20, 40, 40}
	if len(fs.waits) != len(ceilings) {
		t.Fatalf("slept %d times, want %d", len(fs.waits), len(ceilings))
	}
	for i, w := range fs.waits {
		if c := ceilings[i] * time.Millisecond; w < 0 || w > c {
			t.Errorf("wait %d = %v, want within [0, %v]", i, w, c)
		}
	}
}

func TestContextCancelDuringBackoff(t *testing.T) {
	f := fault.Wrap(mem.New())
	f.Add(fault.Rule{Err: blob.ErrTransient})
	ctx, cancel := context.WithCancel(t.Context())
	r := retry.Wrap(f, retry.Policy{Sleep: func(context.Context, time.Duration) error {
		cancel()
		return context.Canceled
	}})
	err := r.Put(ctx, "obj", []byte("x"))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, blob.ErrTransient) {
		t.Fatalf("Put = %v, want both context.Canceled and the last failure", err)
	}
	if got := f.Calls(fault.OpPut); got != 1 {
		t.Errorf("inner Put called %d times after cancel, want 1", got)
	}
}

func TestRealSleepHonoursContext(t *testing.T) {
	f := fault.Wrap(mem.New())
	f.Add(fault.Rule{Err: blob.ErrTransient})
	r := retry.Wrap(f, retry.Policy{Base: time.Hour, Max: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.Stat(ctx, "obj"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stat = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stat took %v to notice the deadline", d)
	}
}

func TestDeleteWithLostResponse(t *testing.T) {
	f, r, _ := setup(t)
	if err := r.Put(t.Context(), "obj", []byte("x")); err != nil {
		t.Fatal(err)
	}
	f.Add(fault.Rule{Op: fault.OpDelete, Times: 1, After: true, Err: blob.ErrTransient})
	if err := r.Delete(t.Context(), "obj"); err != nil {
		t.Fatalf("Delete = %v, want success after the lost response", err)
	}
	if _, err := r.Stat(t.Context(), "obj"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("object still there: %v", err)
	}
	if err := r.Delete(t.Context(), "obj"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Delete of a missing object = %v, want ErrNotFound", err)
	}
}

func TestPutWithLostResponse(t *testing.T) {
	f, r, _ := setup(t)
	f.Add(fault.Rule{Op: fault.OpPut, Times: 2, After: true, Err: blob.ErrTransient})
	if err := r.Put(t.Context(), "obj", []byte("data")); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if got, err := r.Get(t.Context(), "obj", 0, -1); err != nil || string(got) != "data" {
		t.Errorf("Get = %q, %v", got, err)
	}
	if got := f.Calls(fault.OpPut); got != 3 {
		t.Errorf("inner Put called %d times, want 3", got)
	}
}

func TestListRetriesOnlyBeforeFirstEntry(t *testing.T) {
	f, r, _ := setup(t)
	for _, n := range []string{"a", "b", "c"} {
		if err := r.Put(t.Context(), n, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.Add(fault.Rule{Op: fault.OpList, Times: 2, Err: blob.ErrTransient})
	count := 0
	if err := r.List(t.Context(), "", func(blob.Info) error { count++; return nil }); err != nil || count != 3 {
		t.Fatalf("List = %v with %d entries, want 3 entries after retrying", err, count)
	}

	// A transient failure from the callback comes after entries were seen,
	// so it must not restart the listing.
	calls := f.Calls(fault.OpList)
	err := r.List(t.Context(), "", func(blob.Info) error { return blob.ErrTransient })
	if !errors.Is(err, blob.ErrTransient) {
		t.Fatalf("List = %v, want the callback's error", err)
	}
	if got := f.Calls(fault.OpList) - calls; got != 1 {
		t.Errorf("List ran %d times after entries were delivered, want 1", got)
	}
}

// Do gives work outside a store (opening one, which probes the server)
// the same retries: transient failures again, others once.
func TestDo(t *testing.T) {
	fs := &fakeSleep{}
	p := retry.Policy{Attempts: 4, Sleep: fs.sleep}
	calls := 0
	err := retry.Do(t.Context(), p, func() error {
		if calls++; calls < 3 {
			return fmt.Errorf("probe: %w", blob.ErrTransient)
		}
		return nil
	})
	if err != nil || calls != 3 || len(fs.waits) != 2 {
		t.Fatalf("Do = %v after %d calls and %d waits; want success on the third", err, calls, len(fs.waits))
	}
	calls = 0
	err = retry.Do(t.Context(), p, func() error { calls++; return blob.ErrPermission })
	if !errors.Is(err, blob.ErrPermission) || calls != 1 {
		t.Fatalf("Do of a permanent failure = %v after %d calls", err, calls)
	}
}
