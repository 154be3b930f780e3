package nodeagent

import (
	"context"
	"errors"
	"sync"
)

// errShutdown is the cancel cause when the agent stops: the item is handed
// back (Pending) rather than failed.
var errShutdown = errors.New("the agent is stopping")

// runner owns the goroutines that execute items: at most cap(slots) at
// once, each canceled on request or when the agent stops, all waited for.
type runner struct {
	slots   chan struct{}
	base    context.Context
	stop    context.CancelCauseFunc
	mu      sync.Mutex
	running map[itemKey]context.CancelCauseFunc
	wg      sync.WaitGroup
	// afterStop runs once every item has ended (closing the drivers'
	// connections the cleanups used).
	afterStop func()
}

func newRunner(limit int) *runner {
	base, stop := context.WithCancelCause(context.Background())
	return &runner{slots: make(chan struct{}, limit), base: base, stop: stop, running: map[itemKey]context.CancelCauseFunc{}}
}

// reserve takes a slot if one is free.
func (r *runner) reserve() bool {
	select {
	case r.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (r *runner) release() { <-r.slots }

// isRunning reports whether the item runs in this process.
func (r *runner) isRunning(k itemKey) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.running[k]
	return ok
}

// start runs fn in a goroutine holding a reserved slot. It reports false
// (and releases the slot) when the item already runs or the agent stops.
func (r *runner) start(k itemKey, fn func(context.Context)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.running[k]; ok || r.base.Err() != nil {
		r.release()
		return false
	}
	ctx, cancel := context.WithCancelCause(r.base)
	r.running[k] = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.release()
		defer func() {
			r.mu.Lock()
			delete(r.running, k)
			r.mu.Unlock()
			cancel(nil)
		}()
		fn(ctx)
	}()
	return true
}

// cancel stops a running item with cause.
func (r *runner) cancel(k itemKey, cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.running[k]; ok {
		c(cause)
	}
}

// Start implements manager.Runnable: it waits for the manager to stop,
// then stops every item and waits for their cleanup.
func (r *runner) Start(ctx context.Context) error {
	<-ctx.Done()
	r.stop(errShutdown)
	r.wg.Wait()
	if r.afterStop != nil {
		r.afterStop()
	}
	return nil
}
