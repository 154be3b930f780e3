package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

func newUninstallCmd(e *env) *cobra.Command {
	var purge bool
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove cairn's controller, agents and RBAC (with --purge also its CRDs and objects)",
		Long: `Remove what cairn install applied: the controller Deployment, the agent
DaemonSet and the RBAC. The CRDs, the namespace and every cairn object in it
(backups, locations and their Secrets) are kept, so installing again picks
up where it left.

With --purge, also delete every cairn object, the CRDs and the namespace.
Their finalizers are removed first, so the repositories' data stays in the
locations: a new installation with the same location imports the backups
again.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return e.runUninstall(cmd, purge) },
	}
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete the CRDs, every cairn object and the namespace (repository data stays)")
	return cmd
}

func (e *env) runUninstall(cmd *cobra.Command, purge bool) error {
	ctx := ctxOf(cmd)
	objs, err := installObjects(e.namespace, images{})
	if err != nil {
		return err
	}
	c, err := e.kube()
	if err != nil {
		return err
	}
	slices.Reverse(objs)
	// Workloads go first, so the controller does not act on objects being
	// removed under it.
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int { return rank(a) - rank(b) })
	if purge {
		if err := e.purgeObjects(ctx, c); err != nil {
			return err
		}
	}
	for _, o := range objs {
		if !purge && (o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition") {
			continue
		}
		if err := e.deleteReport(ctx, c, o); err != nil {
			return err
		}
	}
	if purge {
		printf(e.cfg.Out, "cairn is uninstalled; the repositories' data stays in the locations.\n")
	} else {
		printf(e.cfg.Out, "cairn's controller and agents are uninstalled; its CRDs and the objects in namespace %s are kept (uninstall --purge removes them).\n", e.namespace)
	}
	return nil
}

// rank orders deletions: workloads, then everything else, then the
// namespace last.
func rank(o *unstructured.Unstructured) int {
	switch o.GetKind() {
	case "Deployment", "DaemonSet":
		return 0
	case "Namespace":
		return 2
	}
	return 1
}

func (e *env) deleteReport(ctx context.Context, c client.Client, o *unstructured.Unstructured) error {
	err := c.Delete(ctx, o, client.PropagationPolicy("Background"))
	switch {
	case err == nil:
		printf(e.cfg.Out, "%s deleted\n", resourceName(o))
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		printf(e.cfg.Out, "%s not found\n", resourceName(o))
	default:
		return fmt.Errorf("delete %s: %w", resourceName(o), err)
	}
	return nil
}

// purgeObjects deletes every cairn object in every namespace, removing
// finalizers first so that deleting a Backup does not forget its data.
func (e *env) purgeObjects(ctx context.Context, c client.Client) error {
	lists := []client.ObjectList{&v1alpha1.ScheduleList{}, &v1alpha1.RestoreList{}, &v1alpha1.VolumeRestoreList{},
		&v1alpha1.BackupList{}, &v1alpha1.VolumeBackupList{}, &v1alpha1.BackupLocationList{}}
	for _, l := range lists {
		err := c.List(ctx, l)
		if meta.IsNoMatchError(err) || isCairnDiscoveryFailure(err) || apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("list cairn objects to purge: %w", err)
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := e.purge(ctx, c, it.(client.Object)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *env) purge(ctx context.Context, c client.Client, o client.Object) error {
	if len(o.GetFinalizers()) > 0 {
		patch := client.MergeFrom(o.DeepCopyObject().(client.Object))
		o.SetFinalizers(nil)
		if err := c.Patch(ctx, o, patch); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("remove the finalizers of %s %s/%s: %w", kindOf(o), o.GetNamespace(), o.GetName(), err)
		}
	}
	if err := c.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s %s/%s: %w", kindOf(o), o.GetNamespace(), o.GetName(), err)
	}
	printf(e.cfg.Out, "%s %s/%s deleted\n", kindOf(o), o.GetNamespace(), o.GetName())
	return nil
}

func kindOf(o client.Object) string {
	_ = withKind(o)
	return o.GetObjectKind().GroupVersionKind().Kind
}
