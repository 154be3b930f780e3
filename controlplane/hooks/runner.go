package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Executor runs a command in a container of a pod and returns its output.
// A command that ran and exited non-zero is an error. Exec must return
// once ctx is done.
type Executor interface {
	Exec(ctx context.Context, pod ObjectRef, container string, cmd []string) (stdout, stderr string, err error)
}

// Clock stamps results. Timeouts are enforced through contexts.
type Clock interface {
	Now() time.Time
}

// defaultHTTPClient has no overall timeout: each hook's context bounds it.
var defaultHTTPClient = &http.Client{}

// Runner runs hooks. The zero value of every field but Exec is usable.
type Runner struct {
	// Exec runs exec hooks; nil makes every exec hook fail.
	Exec Executor
	// HTTP sends HTTP hooks; nil uses a plain client.
	HTTP *http.Client
	// Clock stamps results; nil uses the wall clock.
	Clock Clock
	// Parallel bounds the pods whose hooks run at once; 0 is
	// DefaultParallel.
	Parallel int
	// SnapshotTimeout bounds the wait for snapshots in FreezeWindow; 0 is
	// DefaultSnapshotTimeout.
	SnapshotTimeout time.Duration
	// PollInterval is how often RunRestoreExec looks at a pod that is not
	// Ready yet; 0 is DefaultPollInterval.
	PollInterval time.Duration
}

func (r *Runner) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

func (r *Runner) parallel() int {
	if r.Parallel <= 0 {
		return DefaultParallel
	}
	return r.Parallel
}

// RunPre runs the pre-hooks of all pods as one group: pods concurrently (at
// most Parallel at once), each pod's hooks one after another in order.
// Once a hook with onError=Fail fails, no further pre-hook starts, on that
// pod or any other: the backup fails, and the pods that ran hooks must be
// thawed (Outcome.PodsToThaw). Hooks already running are not interrupted.
func (r *Runner) RunPre(ctx context.Context, pods []PodHooks) Outcome {
	var stop atomic.Bool
	return r.runPhase(ctx, PhasePre, workOf(pods, PhasePre), &stop)
}

// RunPost runs the post-hooks of all pods at once (at most Parallel pods
// at a time). Every post-hook runs, whatever failed before it: a thaw is
// never skipped.
func (r *Runner) RunPost(ctx context.Context, pods []PodHooks) Outcome {
	return r.runPhase(ctx, PhasePost, workOf(pods, PhasePost), nil)
}

// podWork is one pod's hooks for a phase. ready, when set, is polled for
// the pod's readiness before hooks that wait for it.
type podWork struct {
	ph    PodHooks
	hooks []Hook
	ready PodReader
}

func workOf(pods []PodHooks, phase Phase) []podWork {
	work := make([]podWork, 0, len(pods))
	for _, p := range pods {
		hs := p.Pre
		if phase == PhasePost {
			hs = p.Post
		}
		work = append(work, podWork{ph: p, hooks: hs})
	}
	return work
}

// runPhase runs one phase on every pod; stop, when not nil, is raised by a
// failing onError=Fail hook and stops hooks that have not started.
func (r *Runner) runPhase(ctx context.Context, phase Phase, work []podWork, stop *atomic.Bool) Outcome {
	perPod := make([][]Result, len(work))
	var g errgroup.Group
	g.SetLimit(r.parallel())
	for i := range work {
		if len(work[i].hooks) == 0 {
			continue
		}
		g.Go(func() error {
			perPod[i] = r.runPod(ctx, phase, work[i], stop)
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through perPod, never an error
	return newOutcome(phase, perPod)
}

func (r *Runner) runPod(ctx context.Context, phase Phase, w podWork, stop *atomic.Bool) []Result {
	out := make([]Result, len(w.hooks))
	skip := ""
	for i, h := range w.hooks {
		res := newResult(w.ph, phase, i, h)
		switch {
		case skip != "":
		case stop != nil && stop.Load():
			skip = "a pre-hook on another pod failed with onError=Fail"
		case ctx.Err() != nil:
			skip = "canceled before it started"
		}
		if skip != "" {
			res.Status, res.Reason = StatusSkipped, skip
			out[i] = res
			continue
		}
		notReady := r.runHook(ctx, w, h, &res)
		out[i] = res
		if notReady {
			skip = "the pod did not become Ready"
		}
		if res.Status != StatusSucceeded && h.OnError == v1alpha1.OnErrorFail && phase != PhasePost {
			skip = fmt.Sprintf("%s-hook %d on this pod failed with onError=Fail", phase, i)
			if stop != nil {
				stop.Store(true)
			}
		}
	}
	return out
}

func newResult(ph PodHooks, phase Phase, i int, h Hook) Result {
	res := Result{Pod: ph.Pod, Phase: phase, Index: i, Source: h.Source, OnError: h.OnError}
	switch {
	case h.Exec != nil:
		res.Target = "container " + h.Exec.Container
	case h.HTTP != nil:
		res.Target = "POST " + describeTarget(ph.IP, h.HTTP)
	default:
		res.Target = "(invalid hook)"
	}
	return res
}

// runHook runs one hook under its timeout and fills in res. A hook that
// waits for readiness first waits under its own bound, and reports when
// the pod never became Ready: the pod's later hooks would wait in vain.
func (r *Runner) runHook(ctx context.Context, w podWork, h Hook, res *Result) (notReady bool) {
	res.Started = r.now()
	if h.WaitReady > 0 {
		if status, reason := r.waitReady(ctx, w.ready, w.ph.Pod, h.WaitReady); status != StatusSucceeded {
			res.Finished, res.Status, res.Reason = r.now(), status, reason
			return true
		}
	}
	hctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	var err error
	switch {
	case h.problem != nil:
		err = h.problem
	case h.Exec != nil && r.Exec == nil:
		err = errors.New("no exec transport is configured")
	case h.Exec != nil:
		res.Stdout, res.Stderr, err = r.Exec.Exec(hctx, w.ph.Pod, h.Exec.Container, h.Exec.Command)
	case h.HTTP != nil:
		res.Stdout, err = r.runHTTP(hctx, w.ph.IP, h.HTTP)
	default:
		err = errors.New("the hook is neither exec nor http")
	}
	res.Finished = r.now()
	res.Stdout, res.Stderr = clip(res.Stdout, keptOutputBytes), clip(res.Stderr, keptOutputBytes)
	res.Status, res.Reason = classify(ctx, hctx, h.Timeout, err, res.Stderr)
	return false
}

// classify turns a hook's error into a status and a reason. A deadline of
// the hook's own context is a timeout even when the transport reports it
// as something else.
func classify(parent, hctx context.Context, timeout time.Duration, err error, stderr string) (Status, string) {
	switch {
	case err == nil:
		return StatusSucceeded, ""
	case parent.Err() != nil:
		return StatusFailed, "was canceled: " + parent.Err().Error()
	case errors.Is(hctx.Err(), context.DeadlineExceeded):
		return StatusTimedOut, "timed out after " + timeout.String()
	}
	reason := "failed: " + oneLine(err.Error())
	if s := oneLine(stderr); s != "" {
		reason += "; stderr: " + s
	}
	return StatusFailed, reason
}
