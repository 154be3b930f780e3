package hooks_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/hooks"
)

func pod(ns, name string, ann map[string]string, containers ...string) corev1.Pod {
	if len(containers) == 0 {
		containers = []string{"app"}
	}
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "busybox"})
	}
	return p
}

func pre(name string) string  { return hooks.AnnotationKey(hooks.PhasePre, name) }
func post(name string) string { return hooks.AnnotationKey(hooks.PhasePost, name) }

func execHook(container string, timeout time.Duration, onErr v1alpha1.OnError, cmd ...string) hooks.Hook {
	return hooks.Hook{Source: "annotations", Timeout: timeout, OnError: onErr,
		Exec: &hooks.ExecAction{Container: container, Command: cmd}}
}

func TestAnnotationParsing(t *testing.T) {
	const fail, cont = v1alpha1.OnErrorFail, v1alpha1.OnErrorContinue
	tests := []struct {
		name       string
		ann        map[string]string
		containers []string
		wantPre    []hooks.Hook
		wantPost   []hooks.Hook
	}{
		{name: "no annotations", ann: map[string]string{"other": "x"}},
		{name: "JSON array command with defaults",
			ann:     map[string]string{pre("command"): `["fsfreeze", "-f", "/data"]`},
			wantPre: []hooks.Hook{execHook("app", 30*time.Second, fail, "fsfreeze", "-f", "/data")}},
		{name: "plain string runs through sh",
			ann:      map[string]string{post("command"): "  echo thawed && sync "},
			wantPost: []hooks.Hook{execHook("app", 30*time.Second, cont, "/bin/sh", "-c", "echo thawed && sync")}},
		{name: "container timeout and on-error",
			ann: map[string]string{pre("command"): `["flush"]`, pre("container"): "db",
				pre("timeout"): "2m", pre("on-error"): "continue"},
			containers: []string{"sidecar", "db"},
			wantPre:    []hooks.Hook{execHook("db", 2*time.Minute, cont, "flush")}},
		{name: "post on-error Fail",
			ann:      map[string]string{post("command"): `["thaw"]`, post("on-error"): "Fail"},
			wantPost: []hooks.Hook{execHook("app", 30*time.Second, fail, "thaw")}},
		{name: "HTTP hook with every field",
			ann: map[string]string{pre("http-port"): "8443", pre("http-path"): "/quiesce",
				pre("http-scheme"): "HTTPS", pre("http-body"): `{"mode":"freeze"}`,
				pre("http-expect-status"): "204", pre("timeout"): "5s"},
			wantPre: []hooks.Hook{{Source: "annotations", Timeout: 5 * time.Second, OnError: fail,
				HTTP: &hooks.HTTPAction{Scheme: "https", Port: 8443, Path: "/quiesce",
					Body: `{"mode":"freeze"}`, ExpectStatus: 204}}}},
		{name: "HTTP hook defaults",
			ann: map[string]string{post("http-port"): "80"},
			wantPost: []hooks.Hook{{Source: "annotations", Timeout: 30 * time.Second, OnError: cont,
				HTTP: &hooks.HTTPAction{Scheme: "http", Port: 80, Path: "/", Body: "{}", ExpectStatus: 200}}}},
		{name: "exec and HTTP in one phase, exec first",
			ann: map[string]string{pre("command"): "sync", pre("http-port"): "9000"},
			wantPre: []hooks.Hook{execHook("app", 30*time.Second, fail, "/bin/sh", "-c", "sync"),
				{Source: "annotations", Timeout: 30 * time.Second, OnError: fail,
					HTTP: &hooks.HTTPAction{Scheme: "http", Port: 9000, Path: "/", Body: "{}", ExpectStatus: 200}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pod("app", "db-0", tc.ann, tc.containers...)
			got, err := hooks.ForPods([]corev1.Pod{p}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantPre == nil && tc.wantPost == nil {
				if len(got) != 0 {
					t.Fatalf("got hooks %+v for a pod without hook annotations", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d pods, want 1", len(got))
			}
			if !reflect.DeepEqual(got[0].Pre, tc.wantPre) || !reflect.DeepEqual(got[0].Post, tc.wantPost) {
				t.Fatalf("got pre %s post %s\nwant pre %s post %s",
					dump(got[0].Pre), dump(got[0].Post), dump(tc.wantPre), dump(tc.wantPost))
			}
		})
	}
}

func dump(hs []hooks.Hook) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString("{")
		b.WriteString(h.Source + " " + h.Timeout.String() + " " + string(h.OnError))
		if h.Exec != nil {
			b.WriteString(" exec " + h.Exec.Container + " " + strings.Join(h.Exec.Command, "|"))
		}
		if h.HTTP != nil {
			b.WriteString(" http " + strings.Join([]string{h.HTTP.Scheme, h.HTTP.Path, h.HTTP.Body}, "|"))
		}
		b.WriteString("}")
	}
	return "[" + b.String() + "]"
}

// Malformed annotations fail with an error naming the pod and the
// annotation, never echoing a command or body, and never panic.
func TestAnnotationErrors(t *testing.T) {
	const secret = "s3cr3t"
	tests := []struct {
		name    string
		ann     map[string]string
		wantKey string
		want    string
	}{
		{"truncated JSON array", map[string]string{pre("command"): `["mysql", "-p` + secret}, pre("command"), "not a JSON array"},
		{"JSON array of numbers", map[string]string{pre("command"): `[1, 2]`}, pre("command"), "not a JSON array"},
		{"empty JSON array", map[string]string{pre("command"): `[]`}, pre("command"), "no program"},
		{"blank command", map[string]string{post("command"): "   "}, post("command"), "empty"},
		{"unknown container", map[string]string{pre("command"): "sync " + secret, pre("container"): "nope"}, pre("container"), `no container "nope"`},
		{"container without command", map[string]string{pre("container"): "app"}, pre("container"), "without"},
		{"timeout not a duration", map[string]string{pre("command"): "sync", pre("timeout"): "soon"}, pre("timeout"), "not a positive duration"},
		{"negative timeout", map[string]string{pre("command"): "sync", pre("timeout"): "-5s"}, pre("timeout"), "not a positive duration"},
		{"zero timeout", map[string]string{pre("command"): "sync", pre("timeout"): "0s"}, pre("timeout"), "not a positive duration"},
		{"bad on-error", map[string]string{pre("command"): "sync", pre("on-error"): "ignore"}, pre("on-error"), "neither Continue nor Fail"},
		{"unknown annotation name", map[string]string{pre("comand"): "sync"}, pre("comand"), "unknown hook annotation"},
		{"timeout alone declares nothing", map[string]string{post("timeout"): "5s"}, post("command"), "neither"},
		{"http path without port", map[string]string{pre("http-path"): "/q"}, pre("http-port"), "needs a port"},
		{"http port not a number", map[string]string{pre("http-port"): "http"}, pre("http-port"), "not a number from 1 to 65535"},
		{"http port out of range", map[string]string{pre("http-port"): "70000"}, pre("http-port"), "not a number from 1 to 65535"},
		{"http relative path", map[string]string{pre("http-port"): "80", pre("http-path"): "quiesce"}, pre("http-path"), "absolute"},
		{"http scheme", map[string]string{pre("http-port"): "80", pre("http-scheme"): "ftp"}, pre("http-scheme"), "neither http nor https"},
		{"http body not JSON", map[string]string{pre("http-port"): "80", pre("http-body"): "token=" + secret}, pre("http-body"), "not valid JSON"},
		{"http expect status", map[string]string{pre("http-port"): "80", pre("http-expect-status"): "42"}, pre("http-expect-status"), "from 100 to 599"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok := pod("app", "web-1", map[string]string{pre("command"): "true"})
			got, err := hooks.ForPods([]corev1.Pod{pod("app", "db-0", tc.ann), ok}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, want := range []string{"pod app/db-0", "annotation " + tc.wantKey, tc.want} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q echoes a secret", msg)
			}
			if len(got) != 1 || got[0].Pod.Name != "web-1" {
				t.Errorf("the well-formed pod was not kept: %+v", got)
			}
		})
	}
}

func TestPodWithoutContainers(t *testing.T) {
	p := pod("app", "db-0", map[string]string{pre("command"): "sync"})
	p.Spec.Containers = nil
	_, err := hooks.ForPods([]corev1.Pod{p}, nil)
	if err == nil || !strings.Contains(err.Error(), "no containers") {
		t.Fatalf("err = %v", err)
	}
}
