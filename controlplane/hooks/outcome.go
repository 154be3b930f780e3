package hooks

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Status is what happened to one hook.
type Status string

const (
	StatusSucceeded Status = "Succeeded"
	StatusFailed    Status = "Failed"
	StatusTimedOut  Status = "TimedOut"
	// StatusSkipped hooks never started: an earlier failure with
	// onError=Fail, or a canceled context, stopped them.
	StatusSkipped Status = "Skipped"
)

// Output limits. Hook output may hold anything the application prints,
// secrets included: only a short head is kept, and only stderr (or an HTTP
// answer) reaches a message.
const (
	keptOutputBytes    = 512
	messageOutputBytes = 200
)

// Result is the outcome of one hook on one pod.
type Result struct {
	Pod   ObjectRef
	Phase Phase
	// Index is the hook's position among the pod's hooks of the phase.
	Index  int
	Source string
	// Target is "container db", or "POST http://10.0.0.7:8080/quiesce".
	Target  string
	OnError v1alpha1.OnError
	Status  Status
	// Reason says why the hook did not succeed; empty when it did.
	Reason            string
	Started, Finished time.Time
	// Stdout and Stderr are the first bytes of the command's output (or of
	// an HTTP answer's body, in Stdout).
	Stdout, Stderr string
}

// Message is one human-readable line naming the pod, the hook and the
// reason, fit for a condition or an event.
func (r Result) Message() string {
	what := "succeeded"
	switch r.Status {
	case StatusTimedOut, StatusFailed:
		what = r.Reason
	case StatusSkipped:
		what = "was skipped: " + r.Reason
	}
	return fmt.Sprintf("%s-hook %d on pod %s %s %s (declared by %s, onError=%s)",
		r.Phase, r.Index, r.Pod, r.Target, what, r.Source, r.OnError)
}

// Outcome is what a phase did on a group of pods.
type Outcome struct {
	Phase Phase
	// Results hold one entry per hook, in the order of pods and then of
	// hooks.
	Results []Result
	// Failed is true when a hook with onError=Fail did not succeed: the
	// backup (or restore) must fail.
	Failed bool
}

func newOutcome(phase Phase, perPod [][]Result) Outcome {
	o := Outcome{Phase: phase}
	for _, rs := range perPod {
		for _, r := range rs {
			o.Results = append(o.Results, r)
			if r.Status != StatusSucceeded && r.OnError == v1alpha1.OnErrorFail {
				o.Failed = true
			}
		}
	}
	return o
}

// Messages returns one line per hook that did not succeed.
func (o Outcome) Messages() []string {
	var out []string
	for _, r := range o.Results {
		if r.Status != StatusSucceeded {
			out = append(out, r.Message())
		}
	}
	return out
}

// Err is nil unless Failed; then it carries the messages of the hooks with
// onError=Fail that did not succeed.
func (o Outcome) Err() error {
	if !o.Failed {
		return nil
	}
	var errs []error
	for _, r := range o.Results {
		if r.Status != StatusSucceeded && r.OnError == v1alpha1.OnErrorFail {
			errs = append(errs, errors.New(r.Message()))
		}
	}
	return errors.Join(errs...)
}

// Summary is one line for a condition: "4 of 5 pre-hooks succeeded on 3
// pods; 1 failed, 0 skipped".
func (o Outcome) Summary() string {
	pods := map[ObjectRef]bool{}
	var ok, failed, skipped int
	for _, r := range o.Results {
		pods[r.Pod] = true
		switch r.Status {
		case StatusSucceeded:
			ok++
		case StatusSkipped:
			skipped++
		default:
			failed++
		}
	}
	return fmt.Sprintf("%d of %d %s-hooks succeeded on %d pods; %d failed, %d skipped",
		ok, len(o.Results), o.Phase, len(pods), failed, skipped)
}

// PodsToThaw returns the pods whose post-hooks must run after this
// pre-phase: every pod except those whose pre-hooks were all skipped, so
// that an application is never left quiesced, even partly.
func (o Outcome) PodsToThaw(pods []PodHooks) []PodHooks {
	ran := map[ObjectRef]bool{}
	hadPre := map[ObjectRef]bool{}
	for _, r := range o.Results {
		hadPre[r.Pod] = true
		if r.Status != StatusSkipped {
			ran[r.Pod] = true
		}
	}
	var out []PodHooks
	for _, p := range pods {
		if !hadPre[p.Pod] || ran[p.Pod] {
			out = append(out, p)
		}
	}
	return out
}

// clip keeps the first n bytes of s (on a rune boundary) and marks the
// cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(truncated)"
}

// oneLine clips s for a message and folds it onto one line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return clip(s, messageOutputBytes)
}
