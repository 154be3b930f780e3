package restoreplan

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// u parses a YAML object; tests read better in the shape kubectl shows.
func u(t testing.TB, doc string) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(strings.ReplaceAll(doc, "\t", "  ")))
	if err != nil {
		t.Fatalf("yaml: %v\n%s", err, doc)
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(j); err != nil {
		t.Fatalf("decode: %v\n%s", err, j)
	}
	return out
}

func toYAML(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// sameObject compares two objects after a JSON round trip, so that number
// types do not matter.
func sameObject(t testing.TB, got, want map[string]any) bool {
	t.Helper()
	norm := func(v map[string]any) any {
		var out any
		if err := yaml.Unmarshal([]byte(toYAML(v)), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return reflect.DeepEqual(norm(got), norm(want))
}

func gr(s string) schema.GroupResource { return schema.ParseGroupResource(s) }

// in wraps an object as Plan input, namespaced when it has a namespace.
func in(g string, obj *unstructured.Unstructured) Object {
	return Object{GroupResource: gr(g), Namespaced: obj.GetNamespace() != "", Object: obj}
}

func refs(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Ref()
	}
	return out
}
