package nodeagent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// podVolumePath finds where the kubelet mounted a pod's volume on this
// node: <kubelet>/pods/<pod UID>/volumes/<plugin>/<PV name>, with the
// file system under "mount" for CSI volumes.
func (a *Agent) podVolumePath(ctx context.Context, vol v1alpha1.VolumeSource) (string, error) {
	if vol.Pod == nil {
		return "", fmt.Errorf("the file-system data path needs the pod that mounts the volume, and the work item names none")
	}
	var pod corev1.Pod
	if err := a.reader.Get(ctx, objectKey(vol.Pod.Namespace, vol.Pod.Name), &pod); err != nil {
		return "", fmt.Errorf("read pod %s/%s that mounts the volume: %w", vol.Pod.Namespace, vol.Pod.Name, err)
	}
	if pod.Spec.NodeName != a.cfg.NodeName {
		return "", fmt.Errorf("pod %s/%s runs on node %q, not on this agent's node %s", pod.Namespace, pod.Name, pod.Spec.NodeName, a.cfg.NodeName)
	}
	base := filepath.Join(a.cfg.KubeletDir, "pods", string(pod.UID), "volumes")
	matches, _ := filepath.Glob(filepath.Join(base, "*", vol.PVName))
	for _, m := range matches {
		if dir := filepath.Join(m, "mount"); isDir(dir) {
			return dir, nil
		}
		if isDir(m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("volume %s of pod %s/%s is not mounted under %s; is the pod running, and is the kubelet directory %s mounted into the agent?",
		vol.PVName, pod.Namespace, pod.Name, base, a.cfg.KubeletDir)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func objectKey(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

// v1alpha1Condition is a true SnapshotTaken condition with reason and
// message.
func v1alpha1Condition(reason, msg string) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ConditionSnapshotTaken, Status: metav1.ConditionTrue, Reason: reason, Message: msg}
}
