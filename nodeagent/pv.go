package nodeagent

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/csi"
)

// bindVolume creates the PV for a restored volume, pre-bound to the
// restored claim, and points the claim at it. The PV is named like a
// provisioner's ("pvc-<claim UID>"), so a retry finds it again.
func (a *Agent) bindVolume(ctx context.Context, j *restoreJob, dr *driver, sc *storagev1.StorageClass, vol csi.Volume) error {
	ref := j.vr.Spec.Target.PVC
	var pvc corev1.PersistentVolumeClaim
	if err := a.reader.Get(ctx, objectKey(ref.Namespace, ref.Name), &pvc); err != nil {
		return fmt.Errorf("read the restored claim %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	name := "pvc-" + string(pvc.UID)
	if pvc.Spec.VolumeName != "" && pvc.Spec.VolumeName != name {
		return fmt.Errorf("claim %s/%s is already bound to volume %s; delete it (or restore into another namespace) to restore its data", ref.Namespace, ref.Name, pvc.Spec.VolumeName)
	}
	pv := a.persistentVolume(name, &pvc, j, dr, sc, vol)
	if err := a.client.Create(ctx, pv); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create PersistentVolume %s for claim %s/%s: %w", name, ref.Namespace, ref.Name, err)
	}
	if pvc.Spec.VolumeName == name {
		return nil
	}
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"volumeName":%q}}`, name)))
	if err := a.client.Patch(ctx, &pvc, patch); err != nil {
		return fmt.Errorf("bind claim %s/%s to volume %s: %w", ref.Namespace, ref.Name, name, err)
	}
	return nil
}

func (a *Agent) persistentVolume(name string, pvc *corev1.PersistentVolumeClaim, j *restoreJob, dr *driver, sc *storagev1.StorageClass, vol csi.Volume) *corev1.PersistentVolume {
	capacity := vol.CapacityBytes
	if capacity == 0 && j.vr.Spec.Target.Capacity != nil {
		capacity = j.vr.Spec.Target.Capacity.Value()
	}
	mode := corev1.PersistentVolumeFilesystem
	if j.block {
		mode = corev1.PersistentVolumeBlock
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels:      map[string]string{v1alpha1.LabelRestore: j.vr.Spec.RestoreName, v1alpha1.LabelWorkItem: string(j.vr.UID)},
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": dr.name}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: *resource.NewQuantity(capacity, resource.BinarySI)},
			AccessModes:                   pvc.Spec.AccessModes,
			VolumeMode:                    &mode,
			StorageClassName:              j.vr.Spec.Target.StorageClassName,
			PersistentVolumeReclaimPolicy: reclaimPolicy(sc),
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: dr.name, VolumeHandle: vol.ID, VolumeAttributes: vol.Context}},
			NodeAffinity: nodeAffinity(vol.Topology),
		},
	}
	if len(pv.Spec.AccessModes) == 0 {
		pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	if sc != nil {
		pv.Spec.MountOptions = sc.MountOptions
		pv.Spec.CSI.NodeStageSecretRef = secretRef(sc, "node-stage", j.vr.Spec.Target)
		pv.Spec.CSI.NodePublishSecretRef = secretRef(sc, "node-publish", j.vr.Spec.Target)
	}
	return pv
}

func reclaimPolicy(sc *storagev1.StorageClass) corev1.PersistentVolumeReclaimPolicy {
	if sc != nil && sc.ReclaimPolicy != nil {
		return *sc.ReclaimPolicy
	}
	return corev1.PersistentVolumeReclaimDelete
}

// nodeAffinity pins the PV to the topology the driver reported, so the
// scheduler places the workload where the volume can be mounted.
func nodeAffinity(topology []map[string]string) *corev1.VolumeNodeAffinity {
	if len(topology) == 0 {
		return nil
	}
	var terms []corev1.NodeSelectorTerm
	for _, seg := range topology {
		var reqs []corev1.NodeSelectorRequirement
		for k, v := range seg {
			reqs = append(reqs, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpIn, Values: []string{v}})
		}
		terms = append(terms, corev1.NodeSelectorTerm{MatchExpressions: reqs})
	}
	return &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: terms}}
}

func secretRef(sc *storagev1.StorageClass, prefix string, vol v1alpha1.VolumeSource) *corev1.SecretReference {
	name := expand(sc.Parameters[csiParam+prefix+"-secret-name"], vol)
	if name == "" {
		return nil
	}
	return &corev1.SecretReference{Name: name, Namespace: expand(sc.Parameters[csiParam+prefix+"-secret-namespace"], vol)}
}
