package hooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// DefaultPollInterval is how often a restored pod's readiness is read. A
// pod takes seconds to minutes to become Ready; once a second keeps the
// hook prompt at one GET per waiting pod per second.
const DefaultPollInterval = time.Second

// PodReader reads a pod's current state.
type PodReader interface {
	GetPod(ctx context.Context, ref ObjectRef) (*corev1.Pod, error)
}

// ClientPods reads pods through a controller-runtime client.
type ClientPods struct{ Reader client.Reader }

var _ PodReader = ClientPods{}

// GetPod reads the pod.
func (c ClientPods) GetPod(ctx context.Context, ref ObjectRef) (*corev1.Pod, error) {
	var pod corev1.Pod
	err := c.Reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, &pod)
	return &pod, err
}

// RunRestoreExec runs the postRestore exec hooks of the restore's hooks on
// the restored pods they select (by the pods' namespaces, as restored, and
// labels). Pods run concurrently, each pod's hooks in order; each hook
// first waits up to its waitTimeout (default 5m) for the pod to be Ready,
// then runs under its execTimeout (default 30s). A pod that never becomes
// Ready skips its later hooks. onError defaults to Continue: the objects
// are restored already, and a failing hook is reported. A hook with
// onError=Fail that fails stops the pod's later hooks and sets
// Outcome.Failed.
//
// The error reports a spec that cannot be read (a bad glob or label
// selector); then nothing runs. A hook that cannot run on one pod (no such
// container) fails on that pod alone.
func (r *Runner) RunRestoreExec(ctx context.Context, pods PodReader, restored []corev1.Pod, spec []v1alpha1.RestoreResourceHook) (Outcome, error) {
	sels := make([]podSelector, len(spec))
	var errs []error
	for i, rh := range spec {
		s, err := newPodSelector(fmt.Sprintf("restore hook %q", rh.Name),
			rh.IncludedNamespaces, rh.ExcludedNamespaces, rh.LabelSelector)
		errs = append(errs, err)
		sels[i] = s
	}
	if err := errors.Join(errs...); err != nil {
		return Outcome{Phase: PhaseRestore}, err
	}
	var work []podWork
	for i := range restored {
		pod := &restored[i]
		w := podWork{ph: PodHooks{Pod: ObjectRef{Namespace: pod.Namespace, Name: pod.Name},
			IP: pod.Status.PodIP}, ready: pods}
		for j, rh := range spec {
			if sels[j].matches(pod) {
				w.hooks = append(w.hooks, restoreHooks(pod, rh)...)
			}
		}
		work = append(work, w)
	}
	return r.runPhase(ctx, PhaseRestore, work, nil), nil
}

func restoreHooks(pod *corev1.Pod, rh v1alpha1.RestoreResourceHook) []Hook {
	out := make([]Hook, 0, len(rh.PostRestore))
	for _, e := range rh.PostRestore {
		h := Hook{
			Source:    fmt.Sprintf("restore hook %q", rh.Name),
			OnError:   e.OnError,
			Timeout:   durationOr(e.ExecTimeout, DefaultTimeout),
			WaitReady: durationOr(e.WaitTimeout, DefaultWaitTimeout),
		}
		if h.OnError == "" {
			h.OnError = v1alpha1.OnErrorContinue
		}
		container, err := resolveContainer(pod, e.Container)
		switch {
		case err != nil:
			h.problem = err
		case len(e.Command) == 0 || e.Command[0] == "":
			h.problem = errors.New("the command is empty")
		case h.OnError != v1alpha1.OnErrorContinue && h.OnError != v1alpha1.OnErrorFail:
			h.problem = fmt.Errorf("onError %q is neither Continue nor Fail", e.OnError)
			h.OnError = v1alpha1.OnErrorContinue
		}
		if h.problem == nil {
			h.Exec = &ExecAction{Container: container, Command: append([]string(nil), e.Command...)}
		}
		out = append(out, h)
	}
	return out
}

// waitReady polls the pod until it is Ready, it ends, or limit passes.
func (r *Runner) waitReady(ctx context.Context, pods PodReader, ref ObjectRef, limit time.Duration) (Status, string) {
	if pods == nil {
		return StatusFailed, "failed: no pod reader to wait for readiness"
	}
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	every := r.PollInterval
	if every <= 0 {
		every = DefaultPollInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := "not read yet"
	for {
		pod, err := pods.GetPod(wctx, ref)
		switch {
		case err != nil:
			last = "read failed: " + oneLine(err.Error())
		case podReady(pod):
			return StatusSucceeded, ""
		case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
			return StatusFailed, fmt.Sprintf("failed: the pod ended (phase %s) before it was Ready", pod.Status.Phase)
		default:
			last = "phase " + string(pod.Status.Phase)
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return StatusFailed, "was canceled while waiting for the pod to be Ready"
			}
			return StatusTimedOut, fmt.Sprintf("timed out after %s waiting for the pod to be Ready (last seen: %s)", limit, last)
		case <-t.C:
		}
	}
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
