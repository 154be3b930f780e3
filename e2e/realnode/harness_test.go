package realnode

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// These run under plain `go test` (no realnode tag, no root): the parts of
// the harness that need no node.

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`/var/lib/kubelet/pods`:           "/var/lib/kubelet/pods",
		`/mnt/with\040space`:              "/mnt/with space",
		`/mnt/tab\011and\134backslash`:    "/mnt/tab\tand\\backslash",
		`/trailing\04`:                    `/trailing\04`,
		`/var/lib/kubelet/plugins/a\040b`: "/var/lib/kubelet/plugins/a b",
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestImagesRoundTrip builds the images from stand-in binaries and reads
// the tarball back: every reference is there, with its entrypoint, its
// binary executable at the root, and linux/amd64.
func TestImagesRoundTrip(t *testing.T) {
	bin := t.TempDir()
	for _, s := range imageSpecs {
		for _, f := range s.files {
			if err := os.WriteFile(filepath.Join(bin, f), []byte("#!stand-in "+f), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "images.tar")
	if err := buildImages(bin, path); err != nil {
		t.Fatal(err)
	}
	for _, s := range imageSpecs {
		tag, err := name.NewTag(s.ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := tarball.ImageFromPath(path, &tag)
		if err != nil {
			t.Fatalf("%s not in the tarball: %v", s.ref, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cf.Config.Entrypoint, s.entrypoint) || cf.OS != "linux" || cf.Architecture != "amd64" {
			t.Errorf("%s: entrypoint %v, platform %s/%s", s.ref, cf.Config.Entrypoint, cf.OS, cf.Architecture)
		}
		modes := map[string]int64{}
		tr := tar.NewReader(mutate.Extract(img))
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			modes[h.Name] = h.Mode
		}
		for _, f := range s.files {
			if modes[f]&0o111 == 0 {
				t.Errorf("%s: %s missing or not executable (files %v)", s.ref, f, modes)
			}
		}
	}
}
