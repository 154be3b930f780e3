package backup

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/globs"
	"github.com/cairnbackup/cairn/controlplane/hooks"
)

// ClusterCollector collects from the API server through discovery and the
// dynamic client.
type ClusterCollector struct{ Deps collect.Deps }

// Collect implements Collector.
func (c ClusterCollector) Collect(ctx context.Context, spec v1alpha1.BackupSpec) (*collect.Result, error) {
	return collect.Collect(ctx, c.Deps, collect.FilterFrom(spec))
}

// HookFreezer runs the backup's hooks (from its spec and from pod
// annotations) on the pods of the namespaces it selects.
type HookFreezer struct {
	Client client.Reader
	Runner *hooks.Runner
}

// Freeze implements Freezer. Failed hooks with onError=Continue become
// warnings; those with Fail, and a failed snapshot wait, the error.
func (f HookFreezer) Freeze(ctx context.Context, b *v1alpha1.Backup, snapshots func(context.Context) error) ([]string, error) {
	pods, err := f.pods(ctx, b.Spec)
	if err != nil {
		return nil, err
	}
	selected, err := hooks.ForPods(pods, b.Spec.Hooks)
	if err != nil {
		return nil, fmt.Errorf("hooks: %w", err)
	}
	res := f.Runner.FreezeWindow(ctx, selected, snapshots)
	warnings := append(res.Pre.Messages(), res.Post.Messages()...)
	return warnings, res.Err()
}

// pods lists the pods in the namespaces the backup selects.
func (f HookFreezer) pods(ctx context.Context, spec v1alpha1.BackupSpec) ([]corev1.Pod, error) {
	var list corev1.PodList
	if err := f.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list pods for hooks: %w", err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if globs.Selected(p.Namespace, spec.IncludedNamespaces, spec.ExcludedNamespaces) {
			out = append(out, p)
		}
	}
	return out, nil
}
