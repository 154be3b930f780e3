package fault_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/blobtest"
	"github.com/cairnbackup/cairn/chunkstore/blob/fault"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
)

func TestConformanceWithoutRules(t *testing.T) {
	blobtest.Run(t, func(*testing.T) blob.Store { return fault.Wrap(mem.New()) })
}

func TestRules(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name     string
		rule     fault.Rule
		op       fault.Op
		obj      string
		wantErrs []error // per call, nil = success
		stored   bool    // whether the Put calls left the object stored
	}{
		{"default error is transient", fault.Rule{}, fault.OpPut, "a", []error{blob.ErrTransient, blob.ErrTransient}, false},
		{"times", fault.Rule{Op: fault.OpPut, Times: 1, Err: errBoom}, fault.OpPut, "a", []error{errBoom, nil}, true},
		{"other op untouched", fault.Rule{Op: fault.OpGet, Err: errBoom}, fault.OpPut, "a", []error{nil}, true},
		{"prefix match", fault.Rule{Prefix: "data/", Err: errBoom}, fault.OpPut, "data/x", []error{errBoom}, false},
		{"prefix miss", fault.Rule{Prefix: "data/", Err: errBoom}, fault.OpPut, "index/x", []error{nil}, true},
		{"lost response", fault.Rule{Op: fault.OpPut, After: true, Err: errBoom}, fault.OpPut, "a", []error{errBoom}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inner := mem.New()
			f := fault.Wrap(inner)
			f.Add(tc.rule)
			for i, want := range tc.wantErrs {
				err := f.Put(t.Context(), tc.obj, []byte("x"))
				if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
					t.Errorf("call %d: Put = %v, want %v", i, err, want)
				}
			}
			if _, err := inner.Stat(t.Context(), tc.obj); (err == nil) != tc.stored {
				t.Errorf("object stored = %v, want %v", err == nil, tc.stored)
			}
			if got := f.Calls(fault.OpPut); got != len(tc.wantErrs) {
				t.Errorf("Calls(put) = %d, want %d", got, len(tc.wantErrs))
			}
		})
	}
}

func TestCorrupt(t *testing.T) {
	f := fault.Wrap(mem.New())
	data := []byte("0123456789")
	if err := f.Put(t.Context(), "obj", data); err != nil {
		t.Fatal(err)
	}
	f.Add(fault.Rule{Op: fault.OpGet, Times: 1, Corrupt: true})
	got, err := f.Get(t.Context(), "obj", 0, -1)
	if err != nil || bytes.Equal(got, data) || len(got) != len(data) {
		t.Fatalf("corrupted Get = %q, %v; want same length, different bytes", got, err)
	}
	if got, _ := f.Get(t.Context(), "obj", 0, -1); !bytes.Equal(got, data) {
		t.Errorf("second Get = %q, want the original", got)
	}
}

func TestDelay(t *testing.T) {
	f := fault.Wrap(mem.New())
	f.Add(fault.Rule{Op: fault.OpStat, Delay: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := f.Stat(ctx, "obj"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed Stat = %v, want DeadlineExceeded", err)
	}
	f.Clear()
	f.Add(fault.Rule{Op: fault.OpStat, Delay: 10 * time.Millisecond})
	start := time.Now()
	if _, err := f.Stat(t.Context(), "obj"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat = %v, want the inner ErrNotFound after the delay", err)
	}
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Errorf("Stat returned after %v, before the delay", d)
	}
}

func TestKillAfterPuts(t *testing.T) {
	inner := mem.New()
	f := fault.Wrap(inner)
	f.KillAfterPuts(2)
	for i, name := range []string{"a", "b", "c"} {
		err := f.Put(t.Context(), name, nil)
		if wantKilled := i >= 2; errors.Is(err, fault.ErrKilled) != wantKilled {
			t.Errorf("Put %d = %v, want killed=%v", i, err, wantKilled)
		}
	}
	if _, err := f.Get(t.Context(), "a", 0, -1); !errors.Is(err, fault.ErrKilled) {
		t.Errorf("Get after the kill = %v, want ErrKilled", err)
	}
	if err := f.List(t.Context(), "", func(blob.Info) error { return nil }); !errors.Is(err, fault.ErrKilled) {
		t.Errorf("List after the kill = %v, want ErrKilled", err)
	}
	if inner.Len() != 2 {
		t.Errorf("inner holds %d objects, want 2", inner.Len())
	}
	f.Clear()
	if _, err := f.Get(t.Context(), "a", 0, -1); err != nil {
		t.Errorf("Get after Clear = %v", err)
	}
}

func TestKillSwitchCountsOnlySuccessfulPuts(t *testing.T) {
	f := fault.Wrap(mem.New())
	f.KillAfterPuts(1)
	f.Add(fault.Rule{Op: fault.OpPut, Times: 1})
	if err := f.Put(t.Context(), "a", nil); !errors.Is(err, fault.ErrInjected) {
		t.Fatalf("first Put = %v, want the injected error", err)
	}
	if err := f.Put(t.Context(), "a", nil); err != nil {
		t.Fatalf("second Put = %v, want success: the failed one did not count", err)
	}
	if err := f.Put(t.Context(), "b", nil); !errors.Is(err, fault.ErrKilled) {
		t.Fatalf("third Put = %v, want ErrKilled", err)
	}
}
