package placement

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	volumehelpers "k8s.io/component-helpers/storage/volume"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// PodMounting returns a pod that mounts the PVC, preferring a running one
// with a node, or nil.
func PodMounting(ctx context.Context, c client.Reader, pvc *corev1.PersistentVolumeClaim) (*corev1.Pod, error) {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(pvc.Namespace)); err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", pvc.Namespace, err)
	}
	var best *corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if !mounts(p, pvc.Name) || p.DeletionTimestamp != nil {
			continue
		}
		if best == nil || (p.Status.Phase == corev1.PodRunning && best.Status.Phase != corev1.PodRunning) {
			best = p
		}
	}
	return best, nil
}

func mounts(p *corev1.Pod, claim string) bool {
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
			return true
		}
	}
	return false
}

// Want says what a work item needs of its node.
type Want struct {
	// Pod mounting the volume, if any: its node has the data.
	Pod *corev1.Pod
	// Driver is the CSI driver the agent must reach on the node.
	Driver string
	// PV, when set, restricts the choice to nodes its node affinity allows
	// (a node-local volume is reachable from its node only).
	PV *corev1.PersistentVolume
}

// PickNode chooses the node whose agent moves the volume: the node of the
// pod that mounts it (its data is local there), else the ready node running
// the CSI driver, allowed by the PV's node affinity, with the fewest open
// work items.
func PickNode(ctx context.Context, c client.Reader, w Want) (string, error) {
	if w.Pod != nil && w.Pod.Spec.NodeName != "" {
		return w.Pod.Spec.NodeName, nil
	}
	candidates, err := driverNodes(ctx, c, w.Driver, w.PV)
	if err != nil {
		return "", err
	}
	if len(candidates) == 0 {
		if w.PV != nil && w.PV.Spec.NodeAffinity != nil {
			return "", fmt.Errorf("no ready node that PersistentVolume %s's node affinity allows runs CSI driver %q; check that node and the driver's node plugin on it", w.PV.Name, w.Driver)
		}
		return "", fmt.Errorf("no ready node runs CSI driver %q; check the driver's node plugin and the nodes' readiness", w.Driver)
	}
	load, err := openWork(ctx, c)
	if err != nil {
		return "", err
	}
	slices.SortStableFunc(candidates, func(a, b string) int { return load[a] - load[b] })
	return candidates[0], nil
}

// driverNodes lists ready nodes whose CSINode registers driver (and that
// pv's node affinity allows), sorted by name. When no CSINode objects exist at all, every ready node qualifies.
func driverNodes(ctx context.Context, c client.Reader, driver string, pv *corev1.PersistentVolume) ([]string, error) {
	var nodes corev1.NodeList
	if err := c.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var csiNodes storagev1.CSINodeList
	if err := c.List(ctx, &csiNodes); err != nil {
		return nil, fmt.Errorf("list CSI nodes: %w", err)
	}
	hasDriver := map[string]bool{}
	for _, cn := range csiNodes.Items {
		for _, d := range cn.Spec.Drivers {
			if d.Name == driver {
				hasDriver[cn.Name] = true
			}
		}
	}
	var out []string
	for _, n := range nodes.Items {
		if ready(&n) && (len(csiNodes.Items) == 0 || hasDriver[n.Name]) && (pv == nil || volumehelpers.CheckNodeAffinity(pv, n.Labels) == nil) {
			out = append(out, n.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// openWork counts unfinished work items (both kinds) per node.
func openWork(ctx context.Context, c client.Reader) (map[string]int, error) {
	var vbs v1alpha1.VolumeBackupList
	if err := c.List(ctx, &vbs); err != nil {
		return nil, fmt.Errorf("list volume backups: %w", err)
	}
	var vrs v1alpha1.VolumeRestoreList
	if err := c.List(ctx, &vrs); err != nil {
		return nil, fmt.Errorf("list volume restores: %w", err)
	}
	load := map[string]int{}
	for _, vb := range vbs.Items {
		if !vb.Status.Phase.Done() {
			load[vb.Spec.NodeName]++
		}
	}
	for _, vr := range vrs.Items {
		if !vr.Status.Phase.Done() {
			load[vr.Spec.NodeName]++
		}
	}
	return load, nil
}
