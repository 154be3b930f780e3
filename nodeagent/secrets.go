package nodeagent

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// volumeSecrets are the CSI secrets of one volume's calls, read from the
// Secrets its StorageClass names with the standard parameters (and, for
// snapshots, csi.storage.k8s.io/snapshotter-secret-*, since the agent cuts
// snapshots without a VolumeSnapshotClass). The values never leave the
// CSI requests.
type volumeSecrets struct {
	provisioner, snapshotter, nodeStage, nodePublish map[string]string
}

const csiParam = "csi.storage.k8s.io/"

// secretsFor reads the secrets a volume's storage class references.
func (a *Agent) secretsFor(ctx context.Context, vol v1alpha1.VolumeSource, sc *storagev1.StorageClass) (volumeSecrets, error) {
	var s volumeSecrets
	if sc == nil {
		return s, nil
	}
	var err error
	read := func(prefix string) map[string]string {
		if err != nil {
			return nil
		}
		var m map[string]string
		m, err = a.secretParam(ctx, sc, prefix, vol)
		return m
	}
	s.provisioner = read("provisioner")
	s.snapshotter = read("snapshotter")
	s.nodeStage = read("node-stage")
	s.nodePublish = read("node-publish")
	if s.snapshotter == nil {
		s.snapshotter = s.provisioner
	}
	return s, err
}

// secretParam reads the Secret named by the class's <prefix>-secret-name
// and -namespace parameters, or nil when the class names none.
func (a *Agent) secretParam(ctx context.Context, sc *storagev1.StorageClass, prefix string, vol v1alpha1.VolumeSource) (map[string]string, error) {
	name := expand(sc.Parameters[csiParam+prefix+"-secret-name"], vol)
	ns := expand(sc.Parameters[csiParam+prefix+"-secret-namespace"], vol)
	if name == "" {
		return nil, nil
	}
	var sec corev1.Secret
	err := a.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sec)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("the %s secret %s/%s named by storage class %s does not exist; create it or fix the class", prefix, ns, name, sc.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("read the %s secret %s/%s of storage class %s: %w", prefix, ns, name, sc.Name, err)
	}
	out := make(map[string]string, len(sec.Data))
	for k, v := range sec.Data {
		out[k] = string(v)
	}
	return out, nil
}

// expand fills the templates external provisioners accept in secret
// parameters that the agent can know: the claim's namespace and name.
func expand(s string, vol v1alpha1.VolumeSource) string {
	s = strings.ReplaceAll(s, "${pvc.namespace}", vol.PVC.Namespace)
	s = strings.ReplaceAll(s, "${pvc.name}", vol.PVC.Name)
	return strings.ReplaceAll(s, "${pv.name}", vol.PVName)
}

// driverParameters are a class's parameters for the driver itself, without
// the csi.storage.k8s.io/ keys meant for the sidecars.
func driverParameters(sc *storagev1.StorageClass) map[string]string {
	if sc == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range sc.Parameters {
		if !strings.HasPrefix(k, csiParam) {
			out[k] = v
		}
	}
	return out
}

// storageClass reads a class, or nil when the volume has none or it is
// gone (the driver still works without its parameters).
func (a *Agent) storageClass(ctx context.Context, name string) (*storagev1.StorageClass, error) {
	if name == "" {
		return nil, nil
	}
	var sc storagev1.StorageClass
	err := a.reader.Get(ctx, client.ObjectKey{Name: name}, &sc)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read storage class %s: %w", name, err)
	}
	return &sc, nil
}
