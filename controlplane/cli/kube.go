package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// env is the state the commands share: the global flags, the clock and the
// cluster clients, made on first use so that commands that need no
// cluster (completion, version --client, install --dry-run) work without
// one.
type env struct {
	cfg        Config
	kubeconfig string
	context    string
	namespace  string
	timeout    time.Duration

	rest   *rest.Config
	client client.Client
}

func (e *env) addGlobalFlags(root *cobra.Command) {
	fs := root.PersistentFlags()
	fs.StringVar(&e.kubeconfig, "kubeconfig", "", "path of the kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&e.context, "context", "", "kubeconfig context to use (default its current context)")
	fs.StringVarP(&e.namespace, "namespace", "n", DefaultNamespace, "namespace cairn runs in and keeps its objects in")
	fs.DurationVar(&e.timeout, "request-timeout", 30*time.Second, "timeout of each request to the API server")
}

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err) // static registration of compiled-in types
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

var cliScheme = scheme()

// clientConfig loads the kubeconfig as kubectl does.
func (e *env) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = e.kubeconfig
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: e.context})
}

// kubeconfigError is a kubeconfig that could not be loaded.
type kubeconfigError struct{ err error }

func (e *kubeconfigError) Error() string {
	return fmt.Sprintf("load kubeconfig: %v; pass --kubeconfig with a valid file (and --context with one of its contexts)", e.err)
}
func (e *kubeconfigError) Unwrap() error { return e.err }

// restConfig returns the REST config of the chosen context.
func (e *env) restConfig() (*rest.Config, error) {
	if e.rest != nil {
		return e.rest, nil
	}
	rc, err := e.clientConfig().ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, err
		}
		return nil, &kubeconfigError{err: err}
	}
	rc.Timeout = e.timeout
	rc.UserAgent = "cairn/" + version().Version
	e.rest = rc
	return rc, nil
}

// kube returns the cluster client.
func (e *env) kube() (client.Client, error) {
	if e.client != nil {
		return e.client, nil
	}
	rc, err := e.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(rc, client.Options{Scheme: cliScheme})
	if err != nil {
		return nil, fmt.Errorf("connect to the API server %s: %w", e.serverDescription(), err)
	}
	e.client = c
	return c, nil
}

// resetClient drops the client, so that kinds whose CRDs were just created
// are discovered afresh.
func (e *env) resetClient() { e.client = nil }

// serverDescription names the server and context for error messages.
func (e *env) serverDescription() string {
	raw, err := e.clientConfig().RawConfig()
	ctx := e.context
	if err == nil && ctx == "" {
		ctx = raw.CurrentContext
	}
	host := "(unknown server)"
	if e.rest != nil {
		host = e.rest.Host
	} else if rc, err := e.clientConfig().ClientConfig(); err == nil {
		host = rc.Host
	}
	if ctx == "" {
		return host
	}
	return fmt.Sprintf("%s (context %s)", host, ctx)
}
