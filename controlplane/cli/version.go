package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Version is set at build time with
// -ldflags "-X github.com/cairnbackup/cairn/controlplane/cli.Version=v0.1.0";
// otherwise the module version of the build is used.
var Version = ""

// buildInfo describes this binary.
type buildInfo struct {
	Version, Commit, Go string
}

func version() buildInfo {
	bi := buildInfo{Version: Version, Go: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if ok {
		if bi.Version == "" {
			bi.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				bi.Commit = s.Value[:12]
			}
		}
	}
	if bi.Version == "" || bi.Version == "(devel)" {
		bi.Version = "dev"
	}
	return bi
}

func newVersionCmd(e *env) *cobra.Command {
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the CLI's version and the controller's and agents' images",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi := version()
			printf(e.cfg.Out, "Client:      cairn %s (commit %s, %s)\n", bi.Version, orText(bi.Commit, "unknown"), bi.Go)
			if clientOnly {
				return nil
			}
			return e.printServerVersion(cmd)
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print only the CLI's version; do not contact the cluster")
	return cmd
}

// printServerVersion shows the images and readiness of what install made.
func (e *env) printServerVersion(cmd *cobra.Command) error {
	c, err := e.kube()
	if err != nil {
		return err
	}
	ctx := ctxOf(cmd)
	var ds appsv1.DeploymentList
	if err := c.List(ctx, &ds, client.InNamespace(e.namespace)); err != nil {
		return fmt.Errorf("read the controller in namespace %s: %w", e.namespace, err)
	}
	var dss appsv1.DaemonSetList
	if err := c.List(ctx, &dss, client.InNamespace(e.namespace)); err != nil {
		return fmt.Errorf("read the agents in namespace %s: %w", e.namespace, err)
	}
	if len(ds.Items) == 0 && len(dss.Items) == 0 {
		printf(e.cfg.Out, "Controller:  not installed in namespace %s (run `cairn install`)\n", e.namespace)
		return nil
	}
	for _, d := range ds.Items {
		printf(e.cfg.Out, "Controller:  %s, %d/%d ready\n", images0(d.Spec.Template.Spec.Containers), d.Status.ReadyReplicas, d.Status.Replicas)
	}
	for _, d := range dss.Items {
		printf(e.cfg.Out, "Agents:      %s, %d/%d ready\n", images0(d.Spec.Template.Spec.Containers), d.Status.NumberReady, d.Status.DesiredNumberScheduled)
	}
	return nil
}

func images0(cs []corev1.Container) string {
	if len(cs) == 0 {
		return "<no containers>"
	}
	return "image " + cs[0].Image
}
