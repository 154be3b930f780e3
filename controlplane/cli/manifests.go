package cli

import (
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/deploy"
)

// images are the container images install writes into the manifests.
type images struct{ controller, agent string }

// imageRepositories maps the last path element of an image in the
// manifests to the flag that replaces it.
func (im images) forRepository(repo string) string {
	switch repo {
	case "cairn-controller":
		return im.controller
	case "cairn-agent":
		return im.agent
	}
	return ""
}

// installObjects returns the manifests of the kustomization, moved into
// namespace ns and with cairn's images replaced.
func installObjects(ns string, im images) ([]*unstructured.Unstructured, error) {
	objs, err := deploy.Objects()
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if err := relocate(o, ns); err != nil {
			return nil, err
		}
		if err := setImages(o, im); err != nil {
			return nil, err
		}
	}
	return objs, nil
}

// relocate moves an object from the manifests' placeholder namespace to ns,
// as kustomize's namespace field does: namespaced objects, the Namespace
// itself, and the ServiceAccount subjects of bindings.
func relocate(o *unstructured.Unstructured, ns string) error {
	if o.GetKind() == "Namespace" && o.GetAPIVersion() == "v1" {
		o.SetName(ns)
		// The API server puts this label on every Namespace; applying it
		// too keeps a second install from changing the Namespace (the
		// label's ownership would otherwise move once).
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l["kubernetes.io/metadata.name"] = ns
		o.SetLabels(l)
		return nil
	}
	if o.GetNamespace() != "" {
		o.SetNamespace(ns)
	}
	if o.GetKind() != "RoleBinding" && o.GetKind() != "ClusterRoleBinding" {
		return nil
	}
	subjects, _, err := unstructured.NestedSlice(o.Object, "subjects")
	if err != nil {
		return fmt.Errorf("manifest %s %s: subjects: %w", o.GetKind(), o.GetName(), err)
	}
	for _, s := range subjects {
		if m, ok := s.(map[string]any); ok && m["kind"] == "ServiceAccount" && m["namespace"] == deploy.Namespace {
			m["namespace"] = ns
		}
	}
	return unstructured.SetNestedSlice(o.Object, subjects, "subjects")
}

// setImages replaces cairn's images in a workload's pod template.
func setImages(o *unstructured.Unstructured, im images) error {
	for _, field := range []string{"containers", "initContainers"} {
		cs, found, err := unstructured.NestedSlice(o.Object, "spec", "template", "spec", field)
		if err != nil {
			return fmt.Errorf("manifest %s %s: %s: %w", o.GetKind(), o.GetName(), field, err)
		}
		if !found {
			continue
		}
		for _, c := range cs {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			img, _ := m["image"].(string)
			if repl := im.forRepository(imageRepository(img)); repl != "" {
				m["image"] = repl
			}
		}
		if err := unstructured.SetNestedSlice(o.Object, cs, "spec", "template", "spec", field); err != nil {
			return err
		}
	}
	return nil
}

// imageRepository is the last path element of an image without tag or
// digest: ghcr.io/cairnbackup/cairn-agent:v1 → cairn-agent.
func imageRepository(image string) string {
	image, _, _ = strings.Cut(image, "@")
	base := path.Base(image)
	base, _, _ = strings.Cut(base, ":")
	return base
}

// toUnstructured converts a typed object for apply and printing.
func toUnstructured(o client.Object) (*unstructured.Unstructured, error) {
	if u, ok := o.(*unstructured.Unstructured); ok {
		return u, nil
	}
	if err := withKind(o); err != nil {
		return nil, err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, fmt.Errorf("convert %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return u, nil
}

// resourceName is kubectl's kind[.group]/name for messages.
func resourceName(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	k := strings.ToLower(gvk.Kind)
	if gvk.Group != "" {
		k += "." + gvk.Group
	}
	return k + "/" + u.GetName()
}
