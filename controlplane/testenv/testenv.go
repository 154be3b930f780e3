package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Env is a running API server.
type Env struct {
	Config *rest.Config
	Client client.Client
	Scheme *runtime.Scheme
	env    *envtest.Environment
}

// Scheme returns a scheme with the built-in types and cairn's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// Start runs kube-apiserver and etcd until t ends.
func Start(t testing.TB) *Env {
	t.Helper()
	e, err := Launch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Logf("testenv: stop: %v", err)
		}
	})
	return e
}

// Launch runs kube-apiserver and etcd from the tools directory
// ($CAIRN_TOOLS_BIN, or .tools/bin of the module) with cairn's CRDs
// installed, for programs such as the demo; Stop ends them.
func Launch() (*Env, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	bin := ToolsBin(root)
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("testenv: %s not found in %s; run `make tools` to build it", name, bin)
		}
	}
	e := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "deploy", "crds")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: bin,
	}
	cfg, err := e.Start()
	if err != nil {
		return nil, fmt.Errorf("testenv: start kube-apiserver and etcd: %w", err)
	}
	scheme := Scheme()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return &Env{Config: cfg, Client: c, Scheme: scheme, env: e}, nil
}

// Stop ends the API server and etcd.
func (e *Env) Stop() error { return e.env.Stop() }

// ToolsBin is where the servers are: $CAIRN_TOOLS_BIN or root/.tools/bin.
func ToolsBin(root string) string {
	if bin := os.Getenv("CAIRN_TOOLS_BIN"); bin != "" {
		return bin
	}
	return filepath.Join(root, ".tools", "bin")
}

// ModuleRoot finds the directory of cairn's go.mod above the working
// directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Kubeconfig writes a kubeconfig file for a cluster administrator of e,
// for processes the test starts (agents, the CLI), and returns its path.
func (e *Env) Kubeconfig(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := e.WriteKubeconfig(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteKubeconfig writes a kubeconfig file for a cluster administrator.
func (e *Env) WriteKubeconfig(path string) error {
	u, err := e.env.AddUser(envtest.User{Name: "cairn-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("testenv: add a user: %w", err)
	}
	b, err := u.KubeConfig()
	if err != nil {
		return fmt.Errorf("testenv: kubeconfig: %w", err)
	}
	return os.WriteFile(path, b, 0o600)
}
