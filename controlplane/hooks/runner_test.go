package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/hooks"
	"github.com/cairnbackup/cairn/controlplane/hooks/hookstest"
)

// run is a resolved exec hook running cmd in container "c".
func run(cmd string, onErr v1alpha1.OnError) hooks.Hook {
	return hooks.Hook{Source: "test", Timeout: 5 * time.Second, OnError: onErr,
		Exec: &hooks.ExecAction{Container: "c", Command: []string{cmd}}}
}

// group is n pods app/p0..p<n-1>, each with pre-hooks freeze-1, freeze-2
// (onError=Fail) and post-hook thaw (onError=Continue).
func group(n int) []hooks.PodHooks {
	var out []hooks.PodHooks
	for i := range n {
		out = append(out, hooks.PodHooks{
			Pod:  hooks.ObjectRef{Namespace: "app", Name: fmt.Sprintf("p%d", i)},
			Pre:  []hooks.Hook{run("freeze-1", v1alpha1.OnErrorFail), run("freeze-2", v1alpha1.OnErrorFail)},
			Post: []hooks.Hook{run("thaw", v1alpha1.OnErrorContinue)},
		})
	}
	return out
}

// window records when the snapshot callback started and ended.
type window struct {
	clock      hooks.Clock
	mu         sync.Mutex
	start, end time.Time
	calls      int
}

func (w *window) wait(err error) func(context.Context) error {
	return func(ctx context.Context) error {
		w.mu.Lock()
		w.calls++
		w.start = w.clock.Now()
		w.mu.Unlock()
		defer func() { w.mu.Lock(); w.end = w.clock.Now(); w.mu.Unlock() }()
		return err
	}
}

func split(calls []hookstest.Call) (pre, post []hookstest.Call) {
	for _, c := range calls {
		if strings.HasPrefix(c.Command[0], "freeze") {
			pre = append(pre, c)
		} else {
			post = append(post, c)
		}
	}
	return pre, post
}

// All pre-hooks end before the snapshot callback starts; post-hooks start
// only after it returns; within a pod, hooks run in declared order.
func TestFreezeWindowOrdering(t *testing.T) {
	clock := &hookstest.Ticks{}
	fx := &hookstest.Exec{Clock: clock}
	fx.On("", "", hookstest.Response{Delay: 5 * time.Millisecond})
	r := hooks.Runner{Exec: fx, Clock: clock}
	w := &window{clock: clock}
	res := r.FreezeWindow(context.Background(), group(5), w.wait(nil))
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	pre, post := split(fx.Calls())
	if len(pre) != 10 || len(post) != 5 || w.calls != 1 {
		t.Fatalf("ran %d pre, %d post, %d waits; want 10, 5, 1", len(pre), len(post), w.calls)
	}
	for _, c := range pre {
		if !c.End.Before(w.start) {
			t.Errorf("pre-hook %v on %s ended at %v, after the snapshots began at %v", c.Command, c.Pod, c.End, w.start)
		}
	}
	for _, c := range post {
		if !c.Start.After(w.end) {
			t.Errorf("post-hook on %s started at %v, before the snapshots ended at %v", c.Pod, c.Start, w.end)
		}
	}
	first := map[hooks.ObjectRef]hookstest.Call{}
	for _, c := range pre {
		if c.Command[0] == "freeze-1" {
			first[c.Pod] = c
		}
	}
	for _, c := range pre {
		if c.Command[0] == "freeze-2" && !c.Start.After(first[c.Pod].End) {
			t.Errorf("on %s freeze-2 started before freeze-1 ended", c.Pod)
		}
	}
	if !res.Started.Before(res.Thawed) || len(res.Pre.Results) != 10 || len(res.Post.Results) != 5 {
		t.Errorf("result: %+v", res)
	}
	if got := res.Pre.Summary(); got != "10 of 10 pre-hooks succeeded on 5 pods; 0 failed, 0 skipped" {
		t.Errorf("summary %q", got)
	}
}

// rendezvous blocks each call until want calls are in flight at once, or
// fails after a while; it records the most calls ever in flight.
type rendezvous struct {
	want    int
	mu      sync.Mutex
	cur     int
	max     int
	closed  bool
	arrived chan struct{}
}

func (z *rendezvous) Exec(ctx context.Context, _ hooks.ObjectRef, _ string, _ []string) (string, string, error) {
	z.mu.Lock()
	z.cur++
	z.max = max(z.max, z.cur)
	if z.cur == z.want && !z.closed {
		z.closed = true
		close(z.arrived)
	}
	z.mu.Unlock()
	defer func() { z.mu.Lock(); z.cur--; z.mu.Unlock() }()
	select {
	case <-z.arrived:
		return "", "", nil
	case <-time.After(2 * time.Second):
		return "", "", errors.New("the other pods' hooks never ran alongside")
	}
}

// Pods' pre-hooks run concurrently, and no more than Parallel at once.
func TestPreHooksRunConcurrentlyAndBounded(t *testing.T) {
	z := &rendezvous{want: 3, arrived: make(chan struct{})}
	r := hooks.Runner{Exec: z, Parallel: 3}
	out := r.RunPre(context.Background(), group(6))
	if out.Failed {
		t.Fatal(out.Messages())
	}
	if z.max != 3 {
		t.Fatalf("at most %d hooks ran at once, want 3 (Parallel)", z.max)
	}
}

// A pre-hook failing with onError=Fail stops the group: no pre-hook starts
// after it, the snapshots are not waited for, and every pod that ran a
// pre-hook (including the failing one) is thawed; pods never frozen are not.
func TestPreFailureThawsFrozenPods(t *testing.T) {
	fx := &hookstest.Exec{}
	fx.On("app/p1", "freeze-2", hookstest.Response{Err: &hooks.ExitError{Code: 3}, Stderr: "cannot lock tables\n"})
	pods := group(4)
	pods = append(pods, hooks.PodHooks{Pod: hooks.ObjectRef{Namespace: "app", Name: "post-only"},
		Post: []hooks.Hook{run("thaw", v1alpha1.OnErrorContinue)}})
	r := hooks.Runner{Exec: fx, Parallel: 1} // one pod at a time: p0, p1, then the failure
	w := &window{clock: &hookstest.Ticks{}}
	res := r.FreezeWindow(context.Background(), pods, w.wait(nil))
	if w.calls != 0 || res.WaitCalled {
		t.Fatal("snapshots were waited for after a failing pre-hook")
	}
	if !res.Pre.Failed || res.Err() == nil {
		t.Fatal("the failure did not fail the window")
	}
	thawed := map[string]bool{}
	for _, c := range fx.Calls() {
		if c.Command[0] == "thaw" {
			thawed[c.Pod.Name] = true
		}
		if (c.Pod.Name == "p2" || c.Pod.Name == "p3") && c.Command[0] != "thaw" {
			t.Errorf("%v ran on %s after the group failed", c.Command, c.Pod)
		}
	}
	for name, want := range map[string]bool{"p0": true, "p1": true, "p2": false, "p3": false, "post-only": true} {
		if thawed[name] != want {
			t.Errorf("pod %s thawed = %v, want %v", name, thawed[name], want)
		}
	}
	want := "pre-hook 1 on pod app/p1 container c failed: exited with status 3; stderr: cannot lock tables (declared by test, onError=Fail)"
	if msg := res.Err().Error(); !strings.Contains(msg, want) {
		t.Errorf("error %q\nwant it to contain %q", msg, want)
	}
	if got := res.Pre.Summary(); got != "3 of 8 pre-hooks succeeded on 4 pods; 1 failed, 4 skipped" {
		t.Errorf("summary %q", got)
	}
}

// A failing pre-hook on one pod while another pod's hook is in flight:
// the in-flight hook finishes, and both pods are thawed.
func TestPreFailureWithHookInFlight(t *testing.T) {
	fx := &hookstest.Exec{}
	fx.On("app/p1", "freeze-1", hookstest.Response{Delay: 100 * time.Millisecond})
	p1Started := make(chan struct{})
	ex := execFunc(func(ctx context.Context, p hooks.ObjectRef, c string, cmd []string) (string, string, error) {
		switch {
		case p.Name == "p0" && cmd[0] == "freeze-1":
			<-p1Started // fail only once p1's hook is in flight
			return "", "", errors.New("boom")
		case p.Name == "p1" && cmd[0] == "freeze-1":
			close(p1Started)
		}
		return fx.Exec(ctx, p, c, cmd)
	})
	res := (&hooks.Runner{Exec: ex}).FreezeWindow(context.Background(), group(2), func(context.Context) error {
		t.Error("snapshots waited for")
		return nil
	})
	var p1 []string
	for _, c := range fx.Calls() {
		if c.Pod.Name == "p1" {
			p1 = append(p1, c.Command[0])
			if c.Command[0] == "freeze-1" && c.Err != nil {
				t.Errorf("in-flight hook was interrupted: %v", c.Err)
			}
		}
	}
	if strings.Join(p1, ",") != "freeze-1,thaw" {
		t.Errorf("p1 ran %v, want freeze-1 then thaw (freeze-2 skipped)", p1)
	}
	if !res.Pre.Failed || res.Pre.Results[3].Status != hooks.StatusSkipped {
		t.Errorf("pre outcome: %+v", res.Pre.Results)
	}
}

// A failing pre-hook with onError=Continue is reported; the backup goes on.
func TestPreFailureContinue(t *testing.T) {
	fx := &hookstest.Exec{}
	fx.On("", "freeze-1", hookstest.Response{Err: errors.New("no such table")})
	pods := group(1)
	pods[0].Pre[0].OnError = v1alpha1.OnErrorContinue
	w := &window{clock: &hookstest.Ticks{}}
	res := (&hooks.Runner{Exec: fx}).FreezeWindow(context.Background(), pods, w.wait(nil))
	if res.Err() != nil || w.calls != 1 || len(fx.Calls()) != 3 {
		t.Fatalf("err %v, waits %d, calls %d", res.Err(), w.calls, len(fx.Calls()))
	}
	if m := res.Pre.Messages(); len(m) != 1 || !strings.Contains(m[0], "failed: no such table") {
		t.Errorf("messages %q", m)
	}
}

// Post-hooks run when the snapshot wait fails.
func TestPostRunsWhenWaitFails(t *testing.T) {
	fx := &hookstest.Exec{}
	w := &window{clock: &hookstest.Ticks{}}
	res := (&hooks.Runner{Exec: fx}).FreezeWindow(context.Background(), group(3),
		w.wait(errors.New("VolumeBackup data-db-0: driver cannot snapshot")))
	if _, post := split(fx.Calls()); len(post) != 3 {
		t.Fatalf("%d post-hooks ran, want 3", len(post))
	}
	if err := res.Err(); err == nil || !strings.Contains(err.Error(), "snapshots: VolumeBackup data-db-0") {
		t.Fatalf("err = %v", err)
	}
}

// Post-hooks run once the snapshot timeout passes, even while the callback
// ignores its context; FreezeWindow returns only after the callback does.
func TestPostRunsWhenWaitTimesOut(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	fx := &hookstest.Exec{}
	thawer := execFunc(func(ctx context.Context, p hooks.ObjectRef, c string, cmd []string) (string, string, error) {
		if cmd[0] == "thaw" { // the thaw runs while the callback is stuck
			once.Do(func() { close(release) })
		}
		return fx.Exec(ctx, p, c, cmd)
	})
	returned := false
	r := hooks.Runner{Exec: thawer, SnapshotTimeout: 50 * time.Millisecond}
	res := r.FreezeWindow(context.Background(), group(2), func(ctx context.Context) error {
		<-release // ignores ctx
		returned = true
		return nil
	})
	if _, post := split(fx.Calls()); len(post) != 2 {
		t.Fatalf("%d post-hooks ran, want 2", len(post))
	}
	if !returned {
		t.Error("FreezeWindow returned before the callback did")
	}
	if err := res.Err(); err == nil || !strings.Contains(err.Error(), "not all taken within 50ms; the applications were thawed") {
		t.Fatalf("err = %v", err)
	}
}

type execFunc func(ctx context.Context, p hooks.ObjectRef, c string, cmd []string) (string, string, error)

func (f execFunc) Exec(ctx context.Context, p hooks.ObjectRef, c string, cmd []string) (string, string, error) {
	return f(ctx, p, c, cmd)
}

// A callback that honours its context and returns its error is reported as
// the timeout, too.
func TestWaitHonouringContextTimesOut(t *testing.T) {
	r := hooks.Runner{Exec: &hookstest.Exec{}, SnapshotTimeout: 20 * time.Millisecond}
	res := r.FreezeWindow(context.Background(), group(1), func(ctx context.Context) error {
		<-ctx.Done()
		return fmt.Errorf("watch VolumeBackups: %w", ctx.Err())
	})
	if res.Snapshots == nil || !strings.Contains(res.Snapshots.Error(), "within 20ms") {
		t.Fatalf("snapshots = %v", res.Snapshots)
	}
}

// A panicking callback still thaws.
func TestPostRunsWhenWaitPanics(t *testing.T) {
	fx := &hookstest.Exec{}
	res := (&hooks.Runner{Exec: fx}).FreezeWindow(context.Background(), group(1), func(context.Context) error {
		panic("nil map")
	})
	if _, post := split(fx.Calls()); len(post) != 1 {
		t.Fatal("no thaw after a panic")
	}
	if res.Snapshots == nil || !strings.Contains(res.Snapshots.Error(), "panicked: nil map") {
		t.Fatalf("snapshots = %v", res.Snapshots)
	}
}

// Canceling the backup during the window still thaws every pod.
func TestCancelDuringWindowStillThaws(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fx := &hookstest.Exec{}
	res := (&hooks.Runner{Exec: fx}).FreezeWindow(ctx, group(3), func(ctx context.Context) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	})
	for _, r := range res.Post.Results {
		if r.Status != hooks.StatusSucceeded {
			t.Errorf("post-hook on %s: %s", r.Pod, r.Message())
		}
	}
	if len(res.Post.Results) != 3 || res.Snapshots == nil {
		t.Fatalf("post %d, snapshots %v", len(res.Post.Results), res.Snapshots)
	}
}

// A hook's timeout fires; its message names pod, container, index and the
// timeout; the pod is still thawed.
func TestHookTimeout(t *testing.T) {
	fx := &hookstest.Exec{}
	fx.On("app/p0", "freeze-2", hookstest.Response{Hang: true})
	pods := group(1)
	pods[0].Pre[1].Timeout = 30 * time.Millisecond
	res := (&hooks.Runner{Exec: fx}).FreezeWindow(context.Background(), pods, func(context.Context) error {
		t.Error("snapshots waited for")
		return nil
	})
	r := res.Pre.Results[1]
	if r.Status != hooks.StatusTimedOut {
		t.Fatalf("status %s", r.Status)
	}
	want := "pre-hook 1 on pod app/p0 container c timed out after 30ms (declared by test, onError=Fail)"
	if r.Message() != want {
		t.Errorf("message %q\nwant %q", r.Message(), want)
	}
	if len(res.Post.Results) != 1 || res.Post.Results[0].Status != hooks.StatusSucceeded {
		t.Error("not thawed")
	}
}

// Every post-hook runs even when an earlier one fails with onError=Fail.
func TestPostHooksAllRun(t *testing.T) {
	fx := &hookstest.Exec{}
	fx.On("", "thaw-1", hookstest.Response{Err: errors.New("boom")})
	pods := []hooks.PodHooks{{Pod: hooks.ObjectRef{Namespace: "app", Name: "p"},
		Post: []hooks.Hook{run("thaw-1", v1alpha1.OnErrorFail), run("thaw-2", v1alpha1.OnErrorFail)}}}
	out := (&hooks.Runner{Exec: fx}).RunPost(context.Background(), pods)
	if len(fx.Calls()) != 2 || !out.Failed || out.Results[1].Status != hooks.StatusSucceeded {
		t.Fatalf("calls %d, outcome %+v", len(fx.Calls()), out)
	}
}

// Output is clipped and commands never reach messages.
func TestOutputClippedAndCommandsHidden(t *testing.T) {
	fx := &hookstest.Exec{}
	fx.On("", "", hookstest.Response{Stdout: strings.Repeat("o", 10000),
		Stderr: strings.Repeat("e", 10000), Err: &hooks.ExitError{Code: 1}})
	pods := []hooks.PodHooks{{Pod: hooks.ObjectRef{Namespace: "app", Name: "p"},
		Pre: []hooks.Hook{run("mysql -pS3CRET", v1alpha1.OnErrorFail)}}}
	out := (&hooks.Runner{Exec: fx}).RunPre(context.Background(), pods)
	r := out.Results[0]
	if len(r.Stdout) > 600 || len(r.Stderr) > 600 || !strings.HasSuffix(r.Stdout, "…(truncated)") {
		t.Errorf("kept %d and %d bytes of output", len(r.Stdout), len(r.Stderr))
	}
	msg := out.Err().Error()
	if len(msg) > 400 || strings.Contains(msg, "S3CRET") || !strings.Contains(msg, "exited with status 1; stderr: eee") {
		t.Errorf("message (%d bytes): %s", len(msg), msg)
	}
}

// Without an executor, exec hooks fail cleanly.
func TestNoExecutor(t *testing.T) {
	out := (&hooks.Runner{}).RunPre(context.Background(), group(1))
	if !out.Failed || !strings.Contains(out.Results[0].Reason, "no exec transport") {
		t.Fatalf("%+v", out.Results[0])
	}
}
