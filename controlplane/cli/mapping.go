package cli

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// parseMappings parses OLD:NEW pairs separated by commas. Each side must
// be a valid name for what it maps (valid checks it); an OLD named twice is
// ambiguous. Errors quote the part that is wrong and say the form.
func parseMappings(flag, s string, valid func(string) []string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		old, repl, ok := strings.Cut(pair, ":")
		if !ok || old == "" || repl == "" || strings.Contains(repl, ":") {
			return nil, usageErrorf("--%s: %q in %q is not OLD:NEW; write the mappings as old1:new1,old2:new2", flag, pair, s)
		}
		for _, name := range []string{old, repl} {
			if errs := valid(name); len(errs) > 0 {
				return nil, usageErrorf("--%s: %q in %q is not a valid name: %s", flag, name, pair, errs[0])
			}
		}
		if prev, dup := out[old]; dup && prev != repl {
			return nil, usageErrorf("--%s maps %q twice (to %q and %q); keep one", flag, old, prev, repl)
		}
		out[old] = repl
	}
	return out, nil
}

func namespaceName(s string) []string { return validation.IsDNS1123Label(s) }

func storageClassName(s string) []string { return validation.IsDNS1123Subdomain(s) }
