package hooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/globs"
)

// ForPods resolves the backup hooks of each pod: from its annotations and
// from the Backup's spec hooks whose namespaces and label selector match it.
// For each phase, a pod that declares hooks by annotation runs those only;
// otherwise it runs every matching spec hook's hooks, in spec order. Pods
// with no hooks are left out; the rest keep the order of pods.
//
// Every hook is checked here, before anything runs, so that a typo fails the
// backup before any application is frozen. The error joins one message per
// problem, each naming the pod and the annotation or the spec hook; pods
// with a problem are left out of the result, and a backup must not go on.
func ForPods(pods []corev1.Pod, spec []v1alpha1.BackupResourceHook) ([]PodHooks, error) {
	sels := make([]podSelector, len(spec))
	var errs []error
	for i, rh := range spec {
		s, err := newPodSelector(fmt.Sprintf("spec hook %q", rh.Name),
			rh.IncludedNamespaces, rh.ExcludedNamespaces, rh.LabelSelector)
		errs = append(errs, err)
		sels[i] = s
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []PodHooks
	for i := range pods {
		pod := &pods[i]
		ph, err := forPod(pod, spec, sels)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(ph.Pre)+len(ph.Post) > 0 {
			out = append(out, ph)
		}
	}
	return out, errors.Join(errs...)
}

func forPod(pod *corev1.Pod, spec []v1alpha1.BackupResourceHook, sels []podSelector) (PodHooks, error) {
	ph := PodHooks{Pod: ObjectRef{Namespace: pod.Namespace, Name: pod.Name}, IP: pod.Status.PodIP}
	var errs []error
	for _, phase := range []Phase{PhasePre, PhasePost} {
		hs, err := parseAnnotations(pod, phase)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if hs == nil {
			hs, err = specHooksFor(pod, phase, spec, sels)
			errs = append(errs, err)
		}
		if phase == PhasePre {
			ph.Pre = hs
		} else {
			ph.Post = hs
		}
	}
	return ph, errors.Join(errs...)
}

func specHooksFor(pod *corev1.Pod, phase Phase, spec []v1alpha1.BackupResourceHook, sels []podSelector) ([]Hook, error) {
	var out []Hook
	var errs []error
	for i, rh := range spec {
		if !sels[i].matches(pod) {
			continue
		}
		list := rh.Pre
		if phase == PhasePost {
			list = rh.Post
		}
		for j, h := range list {
			r, err := resolveSpecHook(pod, phase, h)
			if err != nil {
				errs = append(errs, fmt.Errorf("pod %s/%s: spec hook %q %s[%d]: %w",
					pod.Namespace, pod.Name, rh.Name, phase, j, err))
				continue
			}
			r.Source = fmt.Sprintf("spec hook %q", rh.Name)
			out = append(out, r)
		}
	}
	return out, errors.Join(errs...)
}

func resolveSpecHook(pod *corev1.Pod, phase Phase, h v1alpha1.Hook) (Hook, error) {
	switch {
	case (h.Exec == nil) == (h.HTTP == nil):
		return Hook{}, fmt.Errorf("a hook is exactly one of exec or http")
	case h.Exec != nil:
		return resolveSpecExec(pod, phase, h.Exec)
	default:
		return resolveSpecHTTP(phase, h.HTTP)
	}
}

func resolveSpecExec(pod *corev1.Pod, phase Phase, e *v1alpha1.ExecHook) (Hook, error) {
	if len(e.Command) == 0 || strings.TrimSpace(e.Command[0]) == "" {
		return Hook{}, fmt.Errorf("exec: the command is empty")
	}
	container, err := resolveContainer(pod, e.Container)
	if err != nil {
		return Hook{}, fmt.Errorf("exec: %w", err)
	}
	h, err := commonSpec(phase, e.Timeout, e.OnError)
	h.Exec = &ExecAction{Container: container, Command: append([]string(nil), e.Command...)}
	return h, err
}

func resolveSpecHTTP(phase Phase, s *v1alpha1.HTTPHook) (Hook, error) {
	a := &HTTPAction{Scheme: strings.ToLower(s.Scheme), Port: s.Port, Path: s.Path,
		Body: s.Body, ExpectStatus: int(s.ExpectStatus)}
	if a.Scheme == "" {
		a.Scheme = "http"
	}
	if a.Path == "" {
		a.Path = "/"
	} else if !strings.HasPrefix(a.Path, "/") {
		a.Path = "/" + a.Path
	}
	if a.Body == "" {
		a.Body = "{}"
	}
	if a.ExpectStatus == 0 {
		a.ExpectStatus = DefaultExpectStatus
	}
	if err := checkHTTP(s.URL, a); err != nil {
		return Hook{}, fmt.Errorf("http: %w", err)
	}
	a.URL = s.URL
	h, err := commonSpec(phase, s.Timeout, s.OnError)
	h.HTTP = a
	return h, err
}

func checkHTTP(raw string, a *HTTPAction) error {
	switch {
	case raw != "":
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url is not an absolute http or https URL")
		}
	case a.Port < 1 || a.Port > 65535:
		return fmt.Errorf("set url, or port (1-65535) to reach the pod's IP")
	case a.Scheme != "http" && a.Scheme != "https":
		return fmt.Errorf("scheme %q is neither http nor https", a.Scheme)
	}
	if a.ExpectStatus < 100 || a.ExpectStatus > 599 {
		return fmt.Errorf("expectStatus %d is not an HTTP status", a.ExpectStatus)
	}
	if !json.Valid([]byte(a.Body)) {
		return fmt.Errorf("body is not valid JSON (it is sent as application/json)")
	}
	return nil
}

func commonSpec(phase Phase, timeout *metav1.Duration, onErr v1alpha1.OnError) (Hook, error) {
	h := Hook{Timeout: DefaultTimeout, OnError: onErr}
	if timeout != nil && timeout.Duration != 0 {
		if timeout.Duration < 0 {
			return h, fmt.Errorf("timeout %s is negative", timeout.Duration)
		}
		h.Timeout = timeout.Duration
	}
	switch onErr {
	case "":
		h.OnError = defaultOnError(phase)
	case v1alpha1.OnErrorContinue, v1alpha1.OnErrorFail:
	default:
		return h, fmt.Errorf("onError %q is neither Continue nor Fail", onErr)
	}
	return h, nil
}

// durationOr returns d's duration, or def when d is unset or zero.
func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil || d.Duration <= 0 {
		return def
	}
	return d.Duration
}

// podSelector matches pods by namespace globs and a label selector.
type podSelector struct {
	include, exclude []string
	labels           labels.Selector
}

func newPodSelector(what string, include, exclude []string, ls *metav1.LabelSelector) (podSelector, error) {
	s := podSelector{labels: labels.Everything()}
	var err error
	if s.include, err = globs.Compile(what+" includedNamespaces", include); err != nil {
		return s, err
	}
	if s.exclude, err = globs.Compile(what+" excludedNamespaces", exclude); err != nil {
		return s, err
	}
	if ls != nil {
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			return s, fmt.Errorf("%s: label selector: %w", what, err)
		}
		s.labels = sel
	}
	return s, nil
}

func (s podSelector) matches(pod *corev1.Pod) bool {
	return globs.Selected(pod.Namespace, s.include, s.exclude) && s.labels.Matches(labels.Set(pod.Labels))
}
