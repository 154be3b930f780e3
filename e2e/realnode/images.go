package realnode

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The images the harness builds. No image is ever pulled: the pods use
// imagePullPolicy Never (cairn's manifests use IfNotPresent, which finds
// them imported).
const (
	ControllerImage = "cairn.local/cairn-controller:realnode"
	AgentImage      = "cairn.local/cairn-agent:realnode"
	DriverImage     = "cairn.local/cairn-csi-hostpath:realnode"
	AppImage        = "cairn.local/cairn-testapp:realnode"
	PauseImage      = "cairn.local/pause:realnode"
)

// commands are the module's packages built statically for the images and
// the host (the cairn CLI).
var commands = []string{"./cmd/cairn", "./cmd/cairn-controller", "./cmd/cairn-agent", "./cmd/cairn-csi-hostpath", "./e2e/realnode/testapp"}

// buildBinaries builds the commands with CGO off, so each runs in an image
// that holds nothing but itself.
func buildBinaries(moduleRoot, out string) error {
	args := append([]string{"build", "-trimpath", "-buildvcs=false", "-o", out + "/"}, commands...)
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the static binaries: %w\n%s", err, b)
	}
	return nil
}

// imageSpec is one image: binaries from the build directory at the root of
// the file system, and the entrypoint.
type imageSpec struct {
	ref        string
	files      []string
	entrypoint []string
}

var imageSpecs = []imageSpec{
	{ControllerImage, []string{"cairn-controller"}, []string{"/cairn-controller"}},
	{AgentImage, []string{"cairn-agent"}, []string{"/cairn-agent"}},
	{DriverImage, []string{"cairn-csi-hostpath"}, []string{"/cairn-csi-hostpath"}},
	{AppImage, []string{"testapp"}, []string{"/testapp", "run"}},
	{PauseImage, []string{"testapp"}, []string{"/testapp", "pause"}},
}

// buildImages writes every image into one image tarball (docker save
// layout, which ctr imports) at path.
func buildImages(binDir, path string) error {
	refs := map[name.Reference]v1.Image{}
	for _, s := range imageSpecs {
		img, err := buildImage(binDir, s)
		if err != nil {
			return fmt.Errorf("build image %s: %w", s.ref, err)
		}
		tag, err := name.NewTag(s.ref)
		if err != nil {
			return err
		}
		refs[tag] = img
	}
	if err := tarball.MultiRefWriteToFile(path, refs); err != nil {
		return fmt.Errorf("write images to %s: %w", path, err)
	}
	return nil
}

func buildImage(binDir string, s imageSpec) (v1.Image, error) {
	layerTar, err := rootfsTar(binDir, s.files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: time.Now()}
	cf.Config.Entrypoint = s.entrypoint
	cf.Config.Env = []string{"PATH=/"}
	return mutate.ConfigFile(img, cf)
}

// rootfsTar is the single layer's file system: the binaries, and /tmp and
// /etc with the empty files containers expect to bind over.
func rootfsTar(binDir string, files []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, d := range []string{"tmp/", "etc/", "dev/", "proc/", "sys/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: now}); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"etc/hosts", "etc/resolv.conf", "etc/hostname"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f, Mode: 0o644, ModTime: now}); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(binDir, f))
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f, Mode: 0o755, Size: int64(len(b)), ModTime: now}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// importImages loads the tarball into containerd's CRI namespace.
func (c *Cluster) importImages(path string) error {
	_, err := run("ctr", "-a", c.ContainerdSock, "-n", "k8s.io", "images", "import", path)
	return err
}
