package hooks

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// FreezeResult is what a freeze window did.
type FreezeResult struct {
	Pre Outcome
	// WaitCalled says whether waitSnapshots ran; it does not when a
	// pre-hook with onError=Fail failed or ctx was done.
	WaitCalled bool
	// Snapshots is waitSnapshots' error, or the timeout that cut it short.
	Snapshots error
	Post      Outcome
	// Started is when the first pre-hook could start; Thawed is when the
	// last post-hook ended. Between them the applications were frozen.
	Started, Thawed time.Time
}

// Err is nil when the backup may go on: every pre-hook and post-hook with
// onError=Fail succeeded and the snapshots were all taken.
func (f FreezeResult) Err() error {
	var errs []error
	if err := f.Pre.Err(); err != nil {
		errs = append(errs, fmt.Errorf("pre-hooks: %w", err))
	}
	if f.Snapshots != nil {
		errs = append(errs, fmt.Errorf("snapshots: %w", f.Snapshots))
	}
	if err := f.Post.Err(); err != nil {
		errs = append(errs, fmt.Errorf("post-hooks: %w", err))
	}
	return errors.Join(errs...)
}

// FreezeWindow runs the freeze protocol (see the package doc): all
// pre-hooks as a group, then waitSnapshots, then all post-hooks at once.
//
// waitSnapshots is called only when no pre-hook with onError=Fail failed.
// Its context ends after SnapshotTimeout; it must return once the
// context is done. The post-hooks run when waitSnapshots returns, when
// its timeout passes (even if it has not returned yet), when it panics,
// and when it is not called at all; they run on every pod whose pre-hooks
// ran, under a context that ctx's cancellation does not reach, so a
// controller shutting down still thaws. FreezeWindow returns only after
// the post-hooks and waitSnapshots have both returned.
func (r *Runner) FreezeWindow(ctx context.Context, pods []PodHooks, waitSnapshots func(context.Context) error) FreezeResult {
	res := FreezeResult{Started: r.now()}
	res.Pre = r.RunPre(ctx, pods)
	wait := func() {}
	switch {
	case res.Pre.Failed:
	case ctx.Err() != nil:
		res.Snapshots = fmt.Errorf("not taken: %w", ctx.Err())
	default:
		res.WaitCalled = true
		wait, res.Snapshots = r.waitSnapshots(ctx, waitSnapshots)
	}
	res.Post = r.RunPost(context.WithoutCancel(ctx), res.Pre.PodsToThaw(pods))
	res.Thawed = r.now()
	wait()
	return res
}

// waitSnapshots calls fn under the snapshot timeout. When the timeout
// passes first it returns at once, with a function that waits for fn to
// return: the caller thaws first and waits after.
func (r *Runner) waitSnapshots(ctx context.Context, fn func(context.Context) error) (func(), error) {
	timeout := r.SnapshotTimeout
	if timeout <= 0 {
		timeout = DefaultSnapshotTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("waiting for snapshots panicked: %v", p)
			}
		}()
		done <- fn(wctx)
	}()
	timedOut := func() error {
		return fmt.Errorf("not all taken within %s; the applications were thawed", timeout)
	}
	select {
	case err := <-done:
		cancel()
		if err != nil && errors.Is(wctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return func() {}, timedOut()
		}
		return func() {}, err
	case <-wctx.Done():
		if ctx.Err() != nil {
			return func() { <-done; cancel() }, fmt.Errorf("waiting canceled: %w", ctx.Err())
		}
		return func() { <-done; cancel() }, timedOut()
	}
}
