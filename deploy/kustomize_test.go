package deploy

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomize renders the directory as `kubectl apply -k deploy` would,
// and every object decodes into its typed form.
func TestKustomizationRenders(t *testing.T) {
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), ".")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	var agent *appsv1.DaemonSet
	accounts := map[string]bool{}
	for _, r := range res.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %v", r.CurId(), err)
		}
		kinds[r.GetKind()]++
		if r.GetKind() == "CustomResourceDefinition" {
			continue // decoded by the API server tests
		}
		obj, err := runtime.Decode(clientgoscheme.Codecs.UniversalDeserializer(), b)
		if err != nil {
			t.Fatalf("%s does not decode: %v", r.CurId(), err)
		}
		if ds, ok := obj.(*appsv1.DaemonSet); ok && ds.Name == "cairn-agent" {
			agent = ds
		}
		if r.GetKind() == "ServiceAccount" {
			accounts[r.GetName()] = true
		}
	}
	for kind, n := range map[string]int{"CustomResourceDefinition": 6, "Deployment": 1, "DaemonSet": 1, "ServiceAccount": 2} {
		if kinds[kind] != n {
			t.Errorf("%d %s objects, want %d (all: %v)", kinds[kind], kind, n, kinds)
		}
	}
	if agent == nil {
		t.Fatal("no cairn-agent DaemonSet")
	}
	spec := agent.Spec.Template.Spec
	if !accounts[spec.ServiceAccountName] {
		t.Errorf("the agent runs as %q, which the manifests do not create", spec.ServiceAccountName)
	}
	env := map[string]bool{}
	for _, e := range spec.Containers[0].Env {
		env[e.Name] = e.ValueFrom != nil
	}
	if !env["NODE_NAME"] {
		t.Error("the agent does not get NODE_NAME from the downward API")
	}
	out, _ := yaml.Marshal(spec.Containers[0].VolumeMounts)
	if len(spec.Containers[0].VolumeMounts) == 0 || spec.Containers[0].VolumeMounts[0].MountPropagation == nil {
		t.Errorf("the kubelet directory is not mounted with propagation: %s", out)
	}
}
