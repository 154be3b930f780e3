// Package deploy holds cairn's Kubernetes manifests (generated CRDs, RBAC,
// the controller Deployment, the agent DaemonSet) and exposes them to the
// CLI's install and uninstall commands, parsed, in the order the
// kustomization lists them.
//
// The kustomization is the single list of what an installation is: a
// manifest added to its resources is installed (and uninstalled) by the
// CLI without further code. Only the resources field is read; the
// manifests carry the namespace "cairn" as a placeholder that the CLI
// replaces with the namespace the user installs into.
package deploy

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Namespace is the placeholder namespace the manifests are written for.
const Namespace = "cairn"

//go:embed kustomization.yaml *.yaml crds/*.yaml
var files embed.FS

type kustomization struct {
	Resources []string `json:"resources"`
}

// Objects parses every manifest the kustomization lists, in its order,
// documents in file order. Each call returns fresh objects the caller may
// change.
func Objects() ([]*unstructured.Unstructured, error) {
	raw, err := files.ReadFile("kustomization.yaml")
	if err != nil {
		return nil, fmt.Errorf("read embedded kustomization.yaml: %w", err)
	}
	var k kustomization
	if err := yaml.Unmarshal(raw, &k); err != nil {
		return nil, fmt.Errorf("parse embedded kustomization.yaml: %w", err)
	}
	var out []*unstructured.Unstructured
	for _, name := range k.Resources {
		objs, err := parseFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// parseFile splits one manifest file into its objects, skipping empty
// documents.
func parseFile(name string) ([]*unstructured.Unstructured, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read embedded manifest %s (listed in kustomization.yaml): %w", name, err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	var out []*unstructured.Unstructured
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read manifest %s document %d: %w", name, i, err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("parse manifest %s document %d: %w", name, i, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("manifest %s document %d: apiVersion, kind and metadata.name are required", name, i)
		}
		out = append(out, u)
	}
}
