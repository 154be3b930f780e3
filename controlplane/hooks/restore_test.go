package hooks_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/hooks"
	"github.com/cairnbackup/cairn/controlplane/hooks/hookstest"
)

// readiness is a PodReader whose pods turn Ready after a number of reads
// (-1: never), or sit in a given phase.
type readiness struct {
	mu      sync.Mutex
	after   map[string]int
	phase   map[string]corev1.PodPhase
	reads   map[string]int
	readyAt map[string]time.Time
}

func (f *readiness) GetPod(_ context.Context, ref hooks.ObjectRef) (*corev1.Pod, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := ref.String()
	f.reads[k]++
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name}}
	p.Status.Phase = corev1.PodPending
	if ph, ok := f.phase[k]; ok {
		p.Status.Phase = ph
	}
	n, ok := f.after[k]
	if !ok {
		return nil, errors.New("not found")
	}
	if n >= 0 && f.reads[k] > n {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if f.readyAt[k].IsZero() {
			f.readyAt[k] = time.Now()
		}
	}
	return p, nil
}

func TestRunRestoreExec(t *testing.T) {
	restored := []corev1.Pod{
		labeled(pod("shop", "db-0", nil, "db"), "app", "db"),
		labeled(pod("shop", "web-0", nil, "web"), "app", "web"),
		labeled(pod("shop", "db-1", nil, "db"), "app", "db"),
		labeled(pod("other", "db-0", nil, "db"), "app", "db"),
		labeled(pod("shop", "db-2", nil, "db"), "app", "db"),
	}
	pods := &readiness{reads: map[string]int{}, readyAt: map[string]time.Time{},
		after: map[string]int{"shop/db-0": 3, "shop/web-0": 0, "shop/db-1": -1, "shop/db-2": -1},
		phase: map[string]corev1.PodPhase{"shop/db-2": corev1.PodFailed}}
	spec := []v1alpha1.RestoreResourceHook{{
		Name: "reindex", IncludedNamespaces: []string{"shop"},
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		PostRestore: []v1alpha1.RestoreExecHook{
			{Command: []string{"reindex"}, WaitTimeout: &metav1.Duration{Duration: 300 * time.Millisecond}},
			{Container: "nope", Command: []string{"never"}},
			{Command: []string{"analyze"}, OnError: v1alpha1.OnErrorFail},
		}}}
	fx := &hookstest.Exec{}
	r := hooks.Runner{Exec: fx, PollInterval: 5 * time.Millisecond}
	out, err := r.RunRestoreExec(context.Background(), pods, restored, spec)
	if err != nil {
		t.Fatal(err)
	}
	var ran []string
	for _, c := range fx.Calls() {
		ran = append(ran, c.Pod.String()+" "+c.Container+" "+c.Command[0])
		if c.Pod.String() == "shop/db-0" && !c.Start.After(pods.readyAt["shop/db-0"]) {
			t.Errorf("%v ran before the pod was Ready", c.Command)
		}
	}
	if got := strings.Join(ran, ", "); got != "shop/db-0 db reindex, shop/db-0 db analyze" {
		t.Errorf("ran %s", got)
	}
	want := []string{
		`restore-hook 1 on pod shop/db-0 (invalid hook) failed: no container "nope" in the pod (it has db) (declared by restore hook "reindex", onError=Continue)`,
		`restore-hook 0 on pod shop/db-1 container db timed out after 300ms waiting for the pod to be Ready (last seen: phase Pending) (declared by restore hook "reindex", onError=Continue)`,
		`restore-hook 1 on pod shop/db-1 (invalid hook) was skipped: the pod did not become Ready (declared by restore hook "reindex", onError=Continue)`,
		`restore-hook 2 on pod shop/db-1 container db was skipped: the pod did not become Ready (declared by restore hook "reindex", onError=Fail)`,
		`restore-hook 0 on pod shop/db-2 container db failed: the pod ended (phase Failed) before it was Ready (declared by restore hook "reindex", onError=Continue)`,
		`restore-hook 1 on pod shop/db-2 (invalid hook) was skipped: the pod did not become Ready (declared by restore hook "reindex", onError=Continue)`,
		`restore-hook 2 on pod shop/db-2 container db was skipped: the pod did not become Ready (declared by restore hook "reindex", onError=Fail)`,
	}
	if got := out.Messages(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !out.Failed {
		t.Error("skipped onError=Fail hooks did not fail the restore")
	}
}

func TestRunRestoreExecBadSpec(t *testing.T) {
	fx := &hookstest.Exec{}
	_, err := (&hooks.Runner{Exec: fx}).RunRestoreExec(context.Background(), &readiness{},
		[]corev1.Pod{pod("shop", "db-0", nil)}, []v1alpha1.RestoreResourceHook{{Name: "r",
			ExcludedNamespaces: []string{"["}, PostRestore: []v1alpha1.RestoreExecHook{{Command: []string{"x"}}}}})
	if err == nil || !strings.Contains(err.Error(), `restore hook "r" excludedNamespaces[0] "[" is not a valid glob`) {
		t.Fatalf("err = %v", err)
	}
	if len(fx.Calls()) != 0 {
		t.Fatal("hooks ran despite a bad spec")
	}
}

// The exec timeout bounds the command once the pod is Ready.
func TestRunRestoreExecTimeout(t *testing.T) {
	fx := &hookstest.Exec{}
	fx.On("", "", hookstest.Response{Hang: true})
	pods := &readiness{reads: map[string]int{}, readyAt: map[string]time.Time{}, after: map[string]int{"shop/db-0": 0}}
	out, err := (&hooks.Runner{Exec: fx}).RunRestoreExec(context.Background(), pods,
		[]corev1.Pod{pod("shop", "db-0", nil)}, []v1alpha1.RestoreResourceHook{{Name: "r",
			PostRestore: []v1alpha1.RestoreExecHook{{Command: []string{"x"},
				ExecTimeout: &metav1.Duration{Duration: 20 * time.Millisecond}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.Results[0]; r.Status != hooks.StatusTimedOut || r.Reason != "timed out after 20ms" || out.Failed {
		t.Fatalf("%+v failed=%v", r, out.Failed)
	}
}
