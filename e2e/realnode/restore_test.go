//go:build realnode

package realnode

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// restoreConsistent deletes the application and restores it into another
// namespace. While the volumes are restored the restored pod must not
// start; once they are, it starts, and the data it finds is exactly what
// was written before the freeze, every record whole.
func restoreConsistent(ctx context.Context, t *testing.T, c client.Client, backup string, f freezeReport) {
	if err := cluster.Kube.CoreV1().Namespaces().Delete(ctx, appNamespace, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(2*time.Minute, "namespace "+appNamespace+" gone", func() (bool, error) {
		_, err := cluster.Kube.CoreV1().Namespaces().Get(ctx, appNamespace, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	cairnCLI(ctx, t, "restore", "create", "shop-restore", "--from-backup", backup,
		"--namespace-mappings", appNamespace+":"+restoredNamespace)
	watchRestore(ctx, t, c, "shop-restore")
	pod := waitPod(ctx, t, restoredNamespace, appPod, 3*time.Minute, podReady)
	t.Logf("restore to a Ready application: %s (pod on node %s)", time.Since(t0).Round(time.Millisecond), pod.Spec.NodeName)

	st, err := appStatus(ctx, restoredNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Startup) != 2 {
		t.Fatalf("the restored application checked %d files at start, want 2", len(st.Startup))
	}
	fsFound, blockFound := st.Startup[0], st.Startup[1]
	for _, ch := range st.Startup {
		if ch.Error != "" {
			t.Errorf("restored %s is not a consistent prefix: %s", ch.File, ch.Error)
		}
	}
	// The filesystem volume's writer was paused by the quiesce: exactly
	// the records written before it. The block volume's file system was
	// frozen: the records completed by then, give or take the one whose
	// count was not yet published when the freeze returned.
	if fsFound.Records != f.quiesced.FSRecords {
		t.Errorf("restored filesystem volume holds %d records, the application had written %d when quiesced", fsFound.Records, f.quiesced.FSRecords)
	}
	if blockFound.Records < f.frozen.BlockRecords || blockFound.Records > f.frozen.BlockRecords+1 {
		t.Errorf("restored block volume holds %d records, the application had written %d when frozen", blockFound.Records, f.frozen.BlockRecords)
	}
	if st.WriteError != "" {
		t.Errorf("the restored application cannot write: %s", st.WriteError)
	}
	t.Logf("restored: %d records on the filesystem volume, %d on the block volume, all valid", fsFound.Records, blockFound.Records)
	leftoversOnNode(t, 4)
}

// watchRestore follows a Restore to its end and fails the test if the
// restored application pod ever ran before every VolumeRestore had
// completed: a workload must never see a half-restored volume.
func watchRestore(ctx context.Context, t *testing.T, c client.Client, name string) {
	sawPending := false
	err := waitFor(5*time.Minute, "restore "+name+" done", func() (bool, error) {
		var r v1alpha1.Restore
		if err := c.Get(ctx, client.ObjectKey{Namespace: cairnNamespace, Name: name}, &r); err != nil {
			return false, err
		}
		var items v1alpha1.VolumeRestoreList
		if err := c.List(ctx, &items, client.InNamespace(cairnNamespace), client.MatchingLabels{v1alpha1.LabelRestore: name}); err != nil {
			return false, err
		}
		done := len(items.Items) == 2
		var summary []string
		for _, it := range items.Items {
			done = done && it.Status.Phase == v1alpha1.WorkCompleted
			summary = append(summary, fmt.Sprintf("%s on %q: %s %s", it.Spec.Target.PVC.Name, it.Spec.NodeName, it.Status.Phase, it.Status.Message))
		}
		pod, err := cluster.Kube.CoreV1().Pods(restoredNamespace).Get(ctx, appPod, metav1.GetOptions{})
		if err == nil && !done {
			if started(pod) {
				return false, fmt.Errorf("the restored pod started (%s) before its volumes were restored", pod.Status.Phase)
			}
			sawPending = true
		}
		switch r.Status.Phase {
		case v1alpha1.RestoreCompleted:
			return true, nil
		case v1alpha1.RestoreFailed, v1alpha1.RestorePartiallyFailed:
			return false, fmt.Errorf("restore %s ended %s: %+v", name, r.Status.Phase, r.Status)
		}
		return false, fmt.Errorf("phase %s; volume restores: %v", r.Status.Phase, summary)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawPending {
		t.Log("the restored pod was created only after its volumes were restored")
	} else {
		t.Log("the restored pod waited, not started, while its volumes were restored")
	}
}

func started(p *corev1.Pod) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running != nil || cs.State.Terminated != nil {
			return true
		}
	}
	return p.Status.Phase == corev1.PodRunning
}

// uninstall removes cairn, then the driver, and checks that nothing of
// either is left on the node: no pod, no mount in the agent's directory,
// no registration socket and no CSINode entry.
func uninstall(ctx context.Context, t *testing.T, c client.Client) {
	// The application goes first, while the driver can still unpublish
	// its volumes.
	if err := cluster.Kube.CoreV1().Namespaces().Delete(ctx, restoredNamespace, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(2*time.Minute, "namespace "+restoredNamespace+" gone", func() (bool, error) {
		_, err := cluster.Kube.CoreV1().Namespaces().Get(ctx, restoredNamespace, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	}); err != nil {
		t.Fatal(err)
	}
	cairnCLI(ctx, t, "uninstall")
	if err := waitFor(2*time.Minute, "no cairn pod", func() (bool, error) {
		pods, err := cluster.Kube.CoreV1().Pods(cairnNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		return len(pods.Items) == 0, fmt.Errorf("%d pods left", len(pods.Items))
	}); err != nil {
		t.Fatal(err)
	}
	if mps, _ := mountsUnder(agentStateDir); len(mps) > 0 {
		t.Errorf("mounts left in the agent's directory: %v", mps)
	}
	if err := cluster.Kube.AppsV1().DaemonSets(driverNamespace).Delete(ctx, "cairn-csi-hostpath", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(2*time.Minute, "driver unregistered", func() (bool, error) {
		has, _ := csiNodeHasDriver(ctx)
		sock := fileExists(KubeletDir + "/plugins_registry/" + driverName + "-reg.sock")
		return !has && !sock, fmt.Errorf("in CSINode: %v, registration socket present: %v", has, sock)
	}); err != nil {
		t.Fatal(err)
	}
}
