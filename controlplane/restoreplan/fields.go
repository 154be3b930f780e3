package restoreplan

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The helpers here read and edit unstructured objects without panicking:
// a field of the wrong type is an error that names its path, which Plan
// turns into a per-item failure.

func fieldPath(fields []string) string { return "." + strings.Join(fields, ".") }

func nestedString(obj map[string]any, fields ...string) (string, bool, error) {
	return unstructured.NestedString(obj, fields...)
}

func nestedMap(obj map[string]any, fields ...string) (map[string]any, bool, error) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, fields...)
	if err != nil || !found || v == nil {
		return nil, false, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false, fmt.Errorf("%s is a %T, not an object", fieldPath(fields), v)
	}
	return m, true, nil
}

func nestedSlice(obj map[string]any, fields ...string) ([]any, bool, error) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, fields...)
	if err != nil || !found || v == nil {
		return nil, false, err
	}
	s, ok := v.([]any)
	if !ok {
		return nil, false, fmt.Errorf("%s is a %T, not a list", fieldPath(fields), v)
	}
	return s, true, nil
}

// eachMap calls fn on every element of the list at fields; elements that
// are not objects are an error.
func eachMap(obj map[string]any, fn func(i int, m map[string]any) error, fields ...string) error {
	list, _, err := nestedSlice(obj, fields...)
	if err != nil {
		return err
	}
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("%s[%d] is a %T, not an object", fieldPath(fields), i, e)
		}
		if err := fn(i, m); err != nil {
			return err
		}
	}
	return nil
}

// removeKeys deletes keys from the string map at fields, and the map itself
// when it ends up empty.
func removeKeys(obj map[string]any, keys []string, fields ...string) error {
	m, found, err := nestedMap(obj, fields...)
	if err != nil || !found {
		return err
	}
	for _, k := range keys {
		delete(m, k)
	}
	if len(m) == 0 {
		unstructured.RemoveNestedField(obj, fields...)
	}
	return nil
}

// mapString replaces the string at fields through mapping, if it has an
// entry for it.
func mapString(obj map[string]any, mapping map[string]string, fields ...string) error {
	v, found, err := nestedString(obj, fields...)
	if err != nil || !found {
		return err
	}
	if to, ok := mapping[v]; ok {
		return unstructured.SetNestedField(obj, to, fields...)
	}
	return nil
}
