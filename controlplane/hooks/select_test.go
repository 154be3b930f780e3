package hooks_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/hooks"
)

func execSpec(cmd ...string) v1alpha1.Hook {
	return v1alpha1.Hook{Exec: &v1alpha1.ExecHook{Command: cmd}}
}

func labeled(p corev1.Pod, kv ...string) corev1.Pod {
	p.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Labels[kv[i]] = kv[i+1]
	}
	return p
}

// names lists "ns/name: first word of each pre command | post ..." per pod.
func names(phs []hooks.PodHooks) []string {
	var out []string
	for _, ph := range phs {
		s := ph.Pod.String() + ":"
		for _, h := range ph.Pre {
			s += " pre=" + h.Exec.Command[len(h.Exec.Command)-1]
		}
		for _, h := range ph.Post {
			s += " post=" + h.Exec.Command[len(h.Exec.Command)-1]
		}
		out = append(out, s)
	}
	return out
}

func TestSpecHookSelection(t *testing.T) {
	pods := []corev1.Pod{
		labeled(pod("prod-a", "db-0", nil), "app", "db"),
		labeled(pod("prod-b", "web-0", nil), "app", "web"),
		labeled(pod("prod-secret", "db-1", nil), "app", "db"),
		labeled(pod("dev", "db-2", nil), "app", "db"),
		labeled(pod("prod-a", "ann-0", map[string]string{pre("command"): `["own-freeze"]`}), "app", "db"),
	}
	spec := []v1alpha1.BackupResourceHook{
		{Name: "dbs", IncludedNamespaces: []string{"prod-*"}, ExcludedNamespaces: []string{"*-secret"},
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Pre:           []v1alpha1.Hook{execSpec("freeze"), execSpec("flush")},
			Post:          []v1alpha1.Hook{execSpec("thaw")}},
		{Name: "all", Pre: []v1alpha1.Hook{execSpec("sync")}},
	}
	got, err := hooks.ForPods(pods, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"prod-a/db-0: pre=freeze pre=flush pre=sync post=thaw",
		"prod-b/web-0: pre=sync",
		"prod-secret/db-1: pre=sync",
		"dev/db-2: pre=sync",
		// Annotations replace the spec's pre-hooks; the post-hooks still
		// come from the spec.
		"prod-a/ann-0: pre=own-freeze post=thaw",
	}
	if g := names(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	h := got[0].Pre[0]
	if h.Source != `spec hook "dbs"` || h.Timeout != hooks.DefaultTimeout ||
		h.OnError != v1alpha1.OnErrorFail || h.Exec.Container != "app" {
		t.Errorf("pre defaults: %+v", h)
	}
	if got[0].Post[0].OnError != v1alpha1.OnErrorContinue {
		t.Errorf("post onError default = %s", got[0].Post[0].OnError)
	}
}

func TestSpecHTTPHooks(t *testing.T) {
	p := pod("app", "api-0", nil)
	p.Status.PodIP = "10.1.2.3"
	spec := []v1alpha1.BackupResourceHook{{Name: "api", Pre: []v1alpha1.Hook{
		{HTTP: &v1alpha1.HTTPHook{Port: 8080, Path: "quiesce", Timeout: &metav1.Duration{Duration: time.Minute}}},
		{HTTP: &v1alpha1.HTTPHook{URL: "https://api.example:8443/freeze?token=x", ExpectStatus: 202,
			Body: `{"a":1}`, OnError: v1alpha1.OnErrorContinue}},
	}}}
	got, err := hooks.ForPods([]corev1.Pod{p}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].IP != "10.1.2.3" {
		t.Errorf("IP = %q", got[0].IP)
	}
	a, b := got[0].Pre[0], got[0].Pre[1]
	if a.HTTP.Path != "/quiesce" || a.HTTP.Scheme != "http" || a.HTTP.Body != "{}" ||
		a.HTTP.ExpectStatus != 200 || a.Timeout != time.Minute || a.OnError != v1alpha1.OnErrorFail {
		t.Errorf("first hook: %+v %+v", a, a.HTTP)
	}
	if b.HTTP.URL == "" || b.HTTP.ExpectStatus != 202 || b.OnError != v1alpha1.OnErrorContinue {
		t.Errorf("second hook: %+v %+v", b, b.HTTP)
	}
}

func TestSpecHookErrors(t *testing.T) {
	tests := []struct {
		name string
		hook v1alpha1.BackupResourceHook
		want string
	}{
		{"bad label selector", v1alpha1.BackupResourceHook{Name: "h", LabelSelector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}},
			Pre: []v1alpha1.Hook{execSpec("x")}}, `spec hook "h": label selector`},
		{"bad glob", v1alpha1.BackupResourceHook{Name: "h", IncludedNamespaces: []string{"prod-["},
			Pre: []v1alpha1.Hook{execSpec("x")}}, `spec hook "h" includedNamespaces[0] "prod-[" is not a valid glob`},
		{"neither exec nor http", v1alpha1.BackupResourceHook{Name: "h", Pre: []v1alpha1.Hook{{}}},
			`pod app/db-0: spec hook "h" pre[0]: a hook is exactly one of exec or http`},
		{"both exec and http", v1alpha1.BackupResourceHook{Name: "h", Post: []v1alpha1.Hook{{
			Exec: &v1alpha1.ExecHook{Command: []string{"x"}}, HTTP: &v1alpha1.HTTPHook{Port: 1}}}},
			`spec hook "h" post[0]: a hook is exactly one of`},
		{"missing container", v1alpha1.BackupResourceHook{Name: "h", Pre: []v1alpha1.Hook{{
			Exec: &v1alpha1.ExecHook{Container: "db", Command: []string{"x"}}}}},
			`spec hook "h" pre[0]: exec: no container "db" in the pod (it has app)`},
		{"empty command", v1alpha1.BackupResourceHook{Name: "h", Pre: []v1alpha1.Hook{{
			Exec: &v1alpha1.ExecHook{}}}}, "the command is empty"},
		{"bad onError", v1alpha1.BackupResourceHook{Name: "h", Pre: []v1alpha1.Hook{{
			Exec: &v1alpha1.ExecHook{Command: []string{"x"}, OnError: "Retry"}}}}, `onError "Retry"`},
		{"negative timeout", v1alpha1.BackupResourceHook{Name: "h", Pre: []v1alpha1.Hook{{
			Exec: &v1alpha1.ExecHook{Command: []string{"x"}, Timeout: &metav1.Duration{Duration: -time.Second}}}}},
			"timeout -1s is negative"},
		{"http without url or port", v1alpha1.BackupResourceHook{Name: "h", Pre: []v1alpha1.Hook{{
			HTTP: &v1alpha1.HTTPHook{Path: "/q"}}}}, "set url, or port"},
		{"http relative url", v1alpha1.BackupResourceHook{Name: "h", Pre: []v1alpha1.Hook{{
			HTTP: &v1alpha1.HTTPHook{URL: "/q"}}}}, "not an absolute http or https URL"},
		{"http body not JSON", v1alpha1.BackupResourceHook{Name: "h", Pre: []v1alpha1.Hook{{
			HTTP: &v1alpha1.HTTPHook{Port: 80, Body: "x=1"}}}}, "body is not valid JSON"},
		{"http bad status", v1alpha1.BackupResourceHook{Name: "h", Pre: []v1alpha1.Hook{{
			HTTP: &v1alpha1.HTTPHook{Port: 80, ExpectStatus: 1000}}}}, "expectStatus 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hooks.ForPods([]corev1.Pod{pod("app", "db-0", nil)},
				[]v1alpha1.BackupResourceHook{tc.hook})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
