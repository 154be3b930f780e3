package globs

import (
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Compile validates patterns and lower-cases them: namespace and resource
// names are lower case, so "Deployments" is a typo, not another resource.
// field names the spec field in errors, e.g. "spec.includedNamespaces".
func Compile(field string, patterns []string) ([]string, error) {
	out := make([]string, 0, len(patterns))
	for i, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			return nil, fmt.Errorf("%s[%d] is empty; remove it or give a name or glob", field, i)
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("%s[%d] %q is not a valid glob: %w", field, i, p, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// MatchAny reports whether any compiled pattern matches one of the names.
func MatchAny(patterns []string, names ...string) bool {
	for _, p := range patterns {
		for _, n := range names {
			if ok, _ := path.Match(p, n); ok {
				return true
			}
		}
	}
	return false
}

// Selected applies an include and an exclude list: excluded wins, and an
// empty include list includes everything.
func Selected(name string, include, exclude []string) bool {
	if MatchAny(exclude, name) {
		return false
	}
	return len(include) == 0 || MatchAny(include, name)
}

// ResourceNames are what resource globs match: "resource" and, outside the
// core group, "resource.group".
func ResourceNames(gr schema.GroupResource) []string {
	if gr.Group == "" {
		return []string{gr.Resource}
	}
	return []string{gr.Resource, gr.Resource + "." + gr.Group}
}

// IsGlob reports whether p has pattern metacharacters rather than being a
// literal name.
func IsGlob(p string) bool { return strings.ContainsAny(p, `*?[\`) }
