package globs

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCompile(t *testing.T) {
	cases := []struct {
		name    string
		in      []string
		want    []string
		wantErr bool
	}{
		{name: "lower-cases and trims", in: []string{" Shop-* "}, want: []string{"shop-*"}},
		{name: "empty pattern", in: []string{""}, wantErr: true},
		{name: "bad glob", in: []string{"[a"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compile("spec.includedNamespaces", tc.in)
			if (err != nil) != tc.wantErr || (err == nil && got[0] != tc.want[0]) {
				t.Fatalf("Compile(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}

func TestSelectedAndResources(t *testing.T) {
	cases := []struct {
		name             string
		ns               string
		include, exclude []string
		want             bool
	}{
		{"no lists selects all", "a", nil, nil, true},
		{"include glob", "shop-1", []string{"shop-*"}, nil, true},
		{"not included", "other", []string{"shop-*"}, nil, false},
		{"exclude wins", "shop-1", []string{"*"}, []string{"shop-1"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Selected(tc.ns, tc.include, tc.exclude); got != tc.want {
				t.Fatalf("Selected(%q) = %v", tc.ns, got)
			}
		})
	}
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	if !MatchAny([]string{"deployments.apps"}, ResourceNames(gr)...) || !MatchAny([]string{"*.apps"}, ResourceNames(gr)...) {
		t.Fatal("resource globs do not match resource.group")
	}
	if MatchAny([]string{"pods"}, ResourceNames(gr)...) || !IsGlob("a*") || IsGlob("a") {
		t.Fatal("wrong match")
	}
}
