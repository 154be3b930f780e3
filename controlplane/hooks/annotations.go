package hooks

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// AnnotationDomain follows the phase in every hook annotation:
// pre.hook.backup.cairn.dev/command, post.hook.backup.cairn.dev/command, ...
const AnnotationDomain = "hook.backup.cairn.dev"

// Annotation names, after "<phase>.hook.backup.cairn.dev/".
const (
	AnnCommand          = "command"
	AnnContainer        = "container"
	AnnTimeout          = "timeout"
	AnnOnError          = "on-error"
	AnnHTTPPath         = "http-path"
	AnnHTTPPort         = "http-port"
	AnnHTTPScheme       = "http-scheme"
	AnnHTTPBody         = "http-body"
	AnnHTTPExpectStatus = "http-expect-status"
)

var knownAnnotations = map[string]bool{
	AnnCommand: true, AnnContainer: true, AnnTimeout: true, AnnOnError: true,
	AnnHTTPPath: true, AnnHTTPPort: true, AnnHTTPScheme: true,
	AnnHTTPBody: true, AnnHTTPExpectStatus: true,
}

// AnnotationKey returns the full key of a hook annotation, for example
// AnnotationKey(PhasePre, AnnCommand) = "pre.hook.backup.cairn.dev/command".
func AnnotationKey(phase Phase, name string) string {
	return string(phase) + "." + AnnotationDomain + "/" + name
}

// annotationParser reads one phase's hook annotations of one pod. The first
// problem found is kept in err; later reads are no-ops, so the parse reads
// straight through and reports once.
type annotationParser struct {
	pod   *corev1.Pod
	phase Phase
	vals  map[string]string // by short name
	err   error
}

func (p *annotationParser) fail(name, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("pod %s/%s: annotation %s: %s", p.pod.Namespace, p.pod.Name,
			AnnotationKey(p.phase, name), fmt.Sprintf(format, args...))
	}
}

// parseAnnotations returns the hooks a pod declares for the phase: at most
// one exec hook and one HTTP hook, the exec hook first. The error names the
// pod and the annotation; annotation values that may hold secrets (the
// command, the body) are never echoed.
func parseAnnotations(pod *corev1.Pod, phase Phase) ([]Hook, error) {
	p := &annotationParser{pod: pod, phase: phase, vals: map[string]string{}}
	prefix := string(phase) + "." + AnnotationDomain + "/"
	var unknown []string
	for k, v := range pod.Annotations {
		name, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if !knownAnnotations[name] {
			unknown = append(unknown, name)
		}
		p.vals[name] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		p.fail(unknown[0], "unknown hook annotation; known are %s", knownList())
	}
	if len(p.vals) == 0 {
		return nil, p.err
	}
	base := Hook{Source: "annotations", Timeout: p.timeout(), OnError: p.onError()}
	var out []Hook
	if h, ok := p.exec(base); ok {
		out = append(out, h)
	}
	if h, ok := p.http(base); ok {
		out = append(out, h)
	}
	if len(out) == 0 {
		p.fail(AnnCommand, "hook annotations are set but neither %s nor %s declares a hook",
			AnnotationKey(phase, AnnCommand), AnnotationKey(phase, AnnHTTPPort))
	}
	if p.err != nil {
		return nil, p.err
	}
	return out, nil
}

func knownList() string {
	names := make([]string, 0, len(knownAnnotations))
	for n := range knownAnnotations {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (p *annotationParser) timeout() time.Duration {
	v, ok := p.vals[AnnTimeout]
	if !ok {
		return DefaultTimeout
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		p.fail(AnnTimeout, "%q is not a positive duration such as 30s or 2m", v)
		return DefaultTimeout
	}
	return d
}

func (p *annotationParser) onError() v1alpha1.OnError {
	v, ok := p.vals[AnnOnError]
	if !ok {
		return defaultOnError(p.phase)
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "continue":
		return v1alpha1.OnErrorContinue
	case "fail":
		return v1alpha1.OnErrorFail
	}
	p.fail(AnnOnError, "%q is neither Continue nor Fail", v)
	return defaultOnError(p.phase)
}

func (p *annotationParser) exec(base Hook) (Hook, bool) {
	v, ok := p.vals[AnnCommand]
	if !ok {
		if _, set := p.vals[AnnContainer]; set {
			p.fail(AnnContainer, "set without %s", AnnotationKey(p.phase, AnnCommand))
		}
		return Hook{}, false
	}
	cmd, err := parseCommand(v)
	if err != nil {
		p.fail(AnnCommand, "%v", err)
		return Hook{}, false
	}
	container, err := resolveContainer(p.pod, p.vals[AnnContainer])
	if err != nil {
		p.fail(AnnContainer, "%v", err)
		return Hook{}, false
	}
	base.Exec = &ExecAction{Container: container, Command: cmd}
	return base, true
}

// parseCommand reads a JSON array of strings, or else a shell command line
// run with /bin/sh -c.
func parseCommand(v string) ([]string, error) {
	s := strings.TrimSpace(v)
	if s == "" {
		return nil, fmt.Errorf("the command is empty")
	}
	if !strings.HasPrefix(s, "[") {
		return []string{"/bin/sh", "-c", s}, nil
	}
	var cmd []string
	if err := json.Unmarshal([]byte(s), &cmd); err != nil {
		return nil, fmt.Errorf("starts with [ but is not a JSON array of strings (%v); "+
			"write [\"cmd\", \"arg\"] or a plain shell command", jsonProblem(err))
	}
	if len(cmd) == 0 || strings.TrimSpace(cmd[0]) == "" {
		return nil, fmt.Errorf("the JSON array has no program to run")
	}
	return cmd, nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("%v, at byte %d", e, e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("a %s where a string belongs, at byte %d", e.Value, e.Offset)
	}
	return "malformed JSON"
}

func (p *annotationParser) http(base Hook) (Hook, bool) {
	_, hasPort := p.vals[AnnHTTPPort]
	declared := hasPort
	for _, n := range []string{AnnHTTPPath, AnnHTTPScheme, AnnHTTPBody, AnnHTTPExpectStatus} {
		if _, ok := p.vals[n]; ok {
			declared = true
		}
	}
	if !declared {
		return Hook{}, false
	}
	if !hasPort {
		p.fail(AnnHTTPPort, "an HTTP hook needs a port: set it to the container port (1-65535)")
		return Hook{}, false
	}
	base.HTTP = &HTTPAction{
		Port:         int32(p.intIn(AnnHTTPPort, 1, 65535, 0)),
		Path:         p.path(),
		Scheme:       p.scheme(),
		Body:         p.body(),
		ExpectStatus: p.intIn(AnnHTTPExpectStatus, 100, 599, DefaultExpectStatus),
	}
	return base, true
}

func (p *annotationParser) intIn(name string, lo, hi, def int) int {
	v, ok := p.vals[name]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		p.fail(name, "%q is not a number from %d to %d", v, lo, hi)
		return def
	}
	return n
}

func (p *annotationParser) path() string {
	v, ok := p.vals[AnnHTTPPath]
	if !ok {
		return "/"
	}
	if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, " \t\r\n") {
		p.fail(AnnHTTPPath, "%q is not an absolute URL path such as /quiesce", v)
	}
	return v
}

func (p *annotationParser) scheme() string {
	v, ok := p.vals[AnnHTTPScheme]
	if !ok {
		return "http"
	}
	s := strings.ToLower(strings.TrimSpace(v))
	if s != "http" && s != "https" {
		p.fail(AnnHTTPScheme, "%q is neither http nor https", v)
	}
	return s
}

func (p *annotationParser) body() string {
	v, ok := p.vals[AnnHTTPBody]
	if !ok {
		return "{}"
	}
	if !json.Valid([]byte(v)) {
		p.fail(AnnHTTPBody, "is not valid JSON (it is sent as application/json)")
	}
	return v
}

// resolveContainer returns the named container, or the pod's first one
// when name is empty, and fails when the pod has no such container.
func resolveContainer(pod *corev1.Pod, name string) (string, error) {
	if len(pod.Spec.Containers) == 0 {
		return "", fmt.Errorf("the pod has no containers")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return pod.Spec.Containers[0].Name, nil
	}
	names := make([]string, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return name, nil
		}
		names = append(names, c.Name)
	}
	return "", fmt.Errorf("no container %q in the pod (it has %s)", name, strings.Join(names, ", "))
}
