package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// install --dry-run -o yaml applies cleanly, and is exactly what install
// applies: installing afterwards changes nothing it printed.
func TestInstallDryRunAppliesCleanly(t *testing.T) {
	env := testenv.Start(t)
	c := &cli{t: t, kubeconfig: writeKubeconfig(t, env.Config), namespace: "dry"}
	pw := filepath.Join(t.TempDir(), "pw")
	writeFile(t, pw, "dry-run-password\n")
	flags := []string{"--location-url", "file:///srv/cairn", "--password-file", pw}
	r := c.ok(append([]string{"install", "--dry-run", "-o", "yaml"}, flags...)...)
	if strings.Contains(r.out+r.err, "dry-run-password") || !strings.Contains(r.err, "kubectl -n dry create secret generic default-repo-password") {
		t.Fatalf("dry run output:\n%s", r)
	}
	objs := yamlDocs(t, r.out)
	ctx := context.Background()
	for _, o := range objs {
		if o.GetAPIVersion() == v1alpha1.GroupVersion.String() {
			if err := waitEstablished(ctx, env.Client, objs, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			t.Fatalf("apply %s from the dry run: %v", resourceName(o), err)
		}
	}
	if got := c.ok("install", "--dry-run", "-o", "json").out; !strings.Contains(got, `"kind": "List"`) {
		t.Errorf("install --dry-run -o json is not a List:\n%.300s", got)
	}
	r = c.ok(append([]string{"install"}, flags...)...)
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
		if strings.HasPrefix(line, "secret/") && strings.HasSuffix(line, " created") {
			continue // the Secrets were not printed, so install makes them
		}
		if strings.Contains(line, "/") && !strings.HasSuffix(line, " unchanged") {
			t.Errorf("install after applying the dry run changed something: %s", line)
		}
	}
}

func yamlDocs(t *testing.T, s string) []*unstructured.Unstructured {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewBufferString(s)))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// install twice changes nothing the second time; --wait waits for the
// controller; uninstall removes it, keeping the CRDs and objects; --purge
// removes those too, after which commands say to run cairn install.
func TestInstallTwiceThenUninstall(t *testing.T) {
	env := testenv.Start(t)
	c := &cli{t: t, kubeconfig: writeKubeconfig(t, env.Config), namespace: "cairn-system"}
	pw := filepath.Join(t.TempDir(), "pw")
	writeFile(t, pw, "install-password\n")
	flags := []string{"install", "--location-url", "file:///srv/cairn", "--password-file", pw, "--image", "example.com/ctl:v9"}
	first := c.ok(flags...)
	if !strings.Contains(first.out, "deployment.apps/cairn-controller created") || !strings.Contains(first.out, "backuplocation.cairn.dev/default created") {
		t.Fatalf("first install:\n%s", first)
	}
	objs := installed(t, env.Client)
	before := versions(t, env.Client, objs)
	second := c.ok(flags...)
	if strings.Contains(second.out, " created") || strings.Contains(second.out, " configured") {
		t.Fatalf("second install changed objects:\n%s", second)
	}
	if after := versions(t, env.Client, objs); !equalMaps(before, after) {
		t.Fatalf("resourceVersions changed: %v → %v", before, after)
	}
	var d appsv1.Deployment
	get(t, env.Client, "cairn-system", "cairn-controller", &d)
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "example.com/ctl:v9" {
		t.Fatalf("controller image %s", img)
	}
	waitForControllerReady(t, c, env.Client)
	uninstall(t, c, env.Client)
}

// waitForControllerReady runs install --wait while a stand-in for the
// kube-controller-manager (which envtest lacks) marks the Deployment and
// the agent DaemonSet (on two nodes) ready.
func waitForControllerReady(t *testing.T, c *cli, k client.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil && !applied(ctx, k, "example.com/ctl:v9") {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second)
		for ctx.Err() == nil && !(markDeploymentReady(ctx, k) && markDaemonSetReady(ctx, k)) {
			time.Sleep(100 * time.Millisecond)
		}
	}()
	r := c.ok("install", "--wait", "--timeout", "30s", "--image", "example.com/ctl:v9")
	cancel()
	<-done
	// The stand-in marks the workloads ready once install has applied them
	// (and waits a little more): install must report each one ready.
	if !strings.Contains(r.out, "Deployment cairn-controller ready (1/1)") || !strings.Contains(r.out, "DaemonSet cairn-agent ready (2/2)") {
		t.Fatalf("install --wait:\n%s", r)
	}
	if v := c.ok("version").out; !strings.Contains(v, "Controller:  image example.com/ctl:v9, 1/1 ready") {
		t.Fatalf("version:\n%s", v)
	}
}

// applied reports whether install has set the controller's image.
func applied(ctx context.Context, k client.Client, image string) bool {
	var d appsv1.Deployment
	return k.Get(ctx, client.ObjectKey{Namespace: "cairn-system", Name: "cairn-controller"}, &d) == nil &&
		d.Spec.Template.Spec.Containers[0].Image == image
}

func markDeploymentReady(ctx context.Context, k client.Client) bool {
	var d appsv1.Deployment
	if k.Get(ctx, client.ObjectKey{Namespace: "cairn-system", Name: "cairn-controller"}, &d) != nil {
		return false
	}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
	return k.Status().Update(ctx, &d) == nil
}

func markDaemonSetReady(ctx context.Context, k client.Client) bool {
	var ds appsv1.DaemonSet
	if k.Get(ctx, client.ObjectKey{Namespace: "cairn-system", Name: "cairn-agent"}, &ds) != nil {
		return false
	}
	ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: 2, CurrentNumberScheduled: 2,
		UpdatedNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2}
	return k.Status().Update(ctx, &ds) == nil
}

func uninstall(t *testing.T, c *cli, k client.Client) {
	c.ok("uninstall")
	ctx := context.Background()
	for _, o := range installed(t, k) {
		kind := o.GetKind()
		keep := kind == "Namespace" || kind == "CustomResourceDefinition" || kind == "Secret" || kind == "BackupLocation"
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		err := k.Get(ctx, client.ObjectKeyFromObject(o), got)
		if keep && err != nil {
			t.Errorf("uninstall without --purge removed %s: %v", resourceName(o), err)
		}
		if !keep && !apierrors.IsNotFound(err) {
			t.Errorf("uninstall left %s (%v)", resourceName(o), err)
		}
	}
	if v := c.ok("version").out; !strings.Contains(v, "not installed in namespace cairn-system") {
		t.Errorf("version after uninstall:\n%s", v)
	}
	c.ok("uninstall", "--purge")
	var ns corev1.Namespace
	if err := k.Get(ctx, client.ObjectKey{Name: "cairn-system"}, &ns); err == nil && ns.DeletionTimestamp.IsZero() {
		t.Fatal("the namespace was not deleted")
	}
	testenv.Eventually(t, "the CRDs to be gone", func() bool {
		return c.run("backup", "get").code == 1 && strings.Contains(c.run("backup", "get").err, "run `cairn install`")
	})
	c.fails(1, "cairn is not installed in this cluster", "location", "describe", "default")
}

// installed lists what install made, as objects to read back.
func installed(t *testing.T, k client.Client) []*unstructured.Unstructured {
	objs, err := installObjects("cairn-system", images{})
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range []struct{ apiVersion, kind, name string }{
		{"v1", "Secret", "default-repo-password"}, {v1alpha1.GroupVersion.String(), "BackupLocation", "default"}} {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(extra.apiVersion)
		u.SetKind(extra.kind)
		u.SetNamespace("cairn-system")
		u.SetName(extra.name)
		objs = append(objs, u)
	}
	return objs
}

func versions(t *testing.T, k client.Client, objs []*unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		if err := k.Get(context.Background(), client.ObjectKeyFromObject(o), got); err != nil {
			t.Fatalf("read %s: %v", resourceName(o), err)
		}
		out[resourceName(o)] = got.GetResourceVersion()
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func get(t *testing.T, k client.Client, ns, name string, obj client.Object) {
	t.Helper()
	if err := k.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("read %T %s/%s: %v", obj, ns, name, err)
	}
}
