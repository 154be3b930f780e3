package realnode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Stop tears the node down and gives the host back as it was: pods are
// deleted while the kubelet still runs (so it unmounts their volumes and
// removes their network), the daemons stop in reverse order, and then
// whatever a killed component left is removed: containerd's shims, the
// kubepods cgroups, mounts under the kubelet's and the harness's
// directories, loop devices, the bridge, the Service address, the
// directories the run created and the sysctls the kubelet set. It fails
// when any of that is still there afterwards.
func (c *Cluster) Stop() error {
	var errs []error
	if c.Kube != nil {
		if err := c.deleteAllPods(); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(c.daemons) - 1; i >= 0; i-- {
		grace := 10 * time.Second
		if err := c.daemons[i].stop(grace); err != nil {
			errs = append(errs, err)
		}
	}
	c.daemons = nil
	if c.ContainerdSock != "" {
		killShims(c.ContainerdSock)
	}
	if err := removeCgroups(); err != nil {
		errs = append(errs, err)
	}
	for _, dir := range []string{KubeletDir, DriverRoot, c.dir} {
		if err := unmountUnder(dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := detachLoops(KubeletDir, DriverRoot, c.dir); err != nil {
		errs = append(errs, err)
	}
	if _, err := run("ip", "link", "show", BridgeName); err == nil {
		if _, err := run("ip", "link", "del", BridgeName); err != nil {
			errs = append(errs, err)
		}
	}
	if c.netUp {
		if _, err := run("ip", "addr", "del", ServiceIP+"/32", "dev", "lo"); err != nil && !strings.Contains(err.Error(), "Cannot assign") {
			errs = append(errs, err)
		}
	}
	if c.host != nil {
		if err := c.host.restore(); err != nil {
			errs = append(errs, err)
		}
		c.host = nil
		if left := hostLeftovers(); left != "" {
			errs = append(errs, fmt.Errorf("the host was not given back clean: %s", left))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tear down the real node: %w", err)
	}
	return nil
}

// deleteAllPods deletes every pod and waits (bounded) until the kubelet
// has cleaned each up. DaemonSets are deleted first, or they would bring
// their pods back.
func (c *Cluster) deleteAllPods() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nss, err := c.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list namespaces for tear-down: %w", err)
	}
	zero := int64(0)
	// Workloads first, while the DaemonSets' drivers can still unpublish
	// their volumes.
	for _, ns := range nss.Items {
		_ = c.Kube.AppsV1().Deployments(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		pods, err := c.Kube.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for _, p := range pods.Items {
			if !ownedByDaemonSet(p.OwnerReferences) {
				_ = c.Kube.CoreV1().Pods(ns.Name).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			}
		}
	}
	_ = waitFor(60*time.Second, "workload pods gone", func() (bool, error) {
		pods, err := c.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if !ownedByDaemonSet(p.OwnerReferences) {
				return false, nil
			}
		}
		return true, nil
	})
	for _, ns := range nss.Items {
		_ = c.Kube.AppsV1().DaemonSets(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		_ = c.Kube.AppsV1().Deployments(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		_ = c.Kube.CoreV1().Pods(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	}
	return waitFor(90*time.Second, "every pod gone", func() (bool, error) {
		pods, err := c.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			_ = c.Kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		}
		return len(pods.Items) == 0, fmt.Errorf("%d pods left", len(pods.Items))
	})
}

func ownedByDaemonSet(refs []metav1.OwnerReference) bool {
	for _, r := range refs {
		if r.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}
