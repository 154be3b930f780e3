package nodeagent

import (
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Serving says where the agent serves /metrics and its probes ("0"
// disables one).
type Serving struct {
	MetricsAddr, ProbeAddr string
}

// NewManager builds a manager whose cache holds only this node's work
// items, with the agent, /healthz and /readyz registered. Starting the
// manager starts the agent.
func NewManager(rc *rest.Config, cfg Config, s Serving) (ctrl.Manager, *Agent, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	skip := true
	mgr, err := ctrl.NewManager(rc, ctrl.Options{Scheme: scheme, Cache: CacheOptions(cfg.NodeName, namespaceOr(cfg.Namespace)),
		Metrics:                metricsserver.Options{BindAddress: s.MetricsAddr},
		HealthProbeBindAddress: s.ProbeAddr,
		Controller:             ctrlConfig(&skip)})
	if err != nil {
		return nil, nil, fmt.Errorf("create the agent's manager: %w", err)
	}
	a, err := New(cfg, Deps{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("cairn-agent")})
	if err != nil {
		return nil, nil, err
	}
	if err := a.SetupWithManager(mgr); err != nil {
		return nil, nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, nil, err
	}
	err = mgr.AddReadyzCheck("agent", func(r *http.Request) error { return a.Ready(r.Context()) })
	return mgr, a, err
}

func namespaceOr(ns string) string {
	if ns == "" {
		return "cairn-system"
	}
	return ns
}
