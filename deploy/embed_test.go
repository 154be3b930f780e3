package deploy

import (
	"io/fs"
	"path"
	"testing"

	"sigs.k8s.io/yaml"
)

// Every YAML file beside the kustomization is listed in it (a manifest
// left out would silently not be installed), and every listed one parses.
func TestObjectsCoverEveryManifest(t *testing.T) {
	objs, err := Objects()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
	}
	if kinds["CustomResourceDefinition"] != 6 || kinds["Deployment"] != 1 || kinds["Namespace"] != 1 {
		t.Fatalf("kinds = %v, want 6 CRDs, 1 Deployment, 1 Namespace", kinds)
	}
	listed := map[string]bool{}
	var k kustomization
	raw, _ := files.ReadFile("kustomization.yaml")
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	for _, r := range k.Resources {
		listed[r] = true
	}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".yaml" || p == "kustomization.yaml" {
			return err
		}
		if !listed[p] {
			t.Errorf("%s is not listed in kustomization.yaml", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
