package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/placement"
)

var pvcResource = schema.GroupResource{Resource: "persistentvolumeclaims"}

// volumePlan is the outcome of volume selection.
type volumePlan struct {
	items    []v1alpha1.VolumeBackup
	records  []v1alpha1.VolumeSnapshotRecord
	problems []string
}

// planVolumes decides, for every backed-up PVC, the data path, the node
// and the parent snapshot, and builds its work item. Volumes that cannot be
// protected are recorded with a message saying how to fix them.
func (r *Reconciler) planVolumes(ctx context.Context, b *v1alpha1.Backup, items []collect.Item, loc string) volumePlan {
	var plan volumePlan
	for _, it := range items {
		if it.GroupResource != pvcResource {
			continue
		}
		var pvc corev1.PersistentVolumeClaim
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(it.Object.Object, &pvc); err != nil {
			plan.problems = append(plan.problems, fmt.Sprintf("PVC %s/%s: decode: %v", it.Object.GetNamespace(), it.Object.GetName(), err))
			continue
		}
		vb, rec, problem := r.planVolume(ctx, b, &pvc, loc)
		plan.records = append(plan.records, rec)
		if problem != "" {
			plan.problems = append(plan.problems, problem)
		}
		if vb != nil {
			plan.items = append(plan.items, *vb)
		}
	}
	return plan
}

func (r *Reconciler) planVolume(ctx context.Context, b *v1alpha1.Backup, pvc *corev1.PersistentVolumeClaim, loc string) (*v1alpha1.VolumeBackup, v1alpha1.VolumeSnapshotRecord, string) {
	ref := v1alpha1.ObjectRef{Namespace: pvc.Namespace, Name: pvc.Name}
	rec := v1alpha1.VolumeSnapshotRecord{PVC: ref}
	fail := func(format string, args ...any) (*v1alpha1.VolumeBackup, v1alpha1.VolumeSnapshotRecord, string) {
		rec.Phase = v1alpha1.WorkFailed
		return nil, rec, fmt.Sprintf("volume %s/%s: ", pvc.Namespace, pvc.Name) + fmt.Sprintf(format, args...)
	}
	if pvc.Spec.VolumeName == "" {
		rec.DataPath = v1alpha1.DataPathSkip
		return nil, rec, fmt.Sprintf("volume %s/%s: the PVC is not bound, so it has no data to back up", pvc.Namespace, pvc.Name)
	}
	var pv corev1.PersistentVolume
	if err := r.Client.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, &pv); err != nil {
		return fail("read its PersistentVolume %s: %v", pvc.Spec.VolumeName, err)
	}
	driver := ""
	if pv.Spec.CSI != nil {
		driver = pv.Spec.CSI.Driver
	}
	path := dataPath(b.Spec.VolumePolicy, pvc, driver)
	rec.DataPath, rec.CSIDriver = path, driver
	if path == v1alpha1.DataPathSkip {
		return nil, rec, ""
	}
	if path == v1alpha1.DataPathSnapshotMove && driver == "" {
		return fail("PersistentVolume %s is not provisioned by a CSI driver, so it cannot be snapshotted; annotate the PVC with %s=file-system or add a file-system volume policy for its storage class",
			pv.Name, v1alpha1.AnnotationVolumePolicy)
	}
	pod, err := placement.PodMounting(ctx, r.Client, pvc)
	if err != nil {
		return fail("%v", err)
	}
	if path == v1alpha1.DataPathFileSystem && pod == nil {
		return fail("the file-system data path reads the volume through a running pod that mounts it, and none does; start one or use snapshot-move")
	}
	node, err := placement.PickNode(ctx, r.Client, placement.Want{Pod: pod, Driver: driver, PV: &pv})
	if err != nil {
		return fail("%v", err)
	}
	vb := r.workItem(b, pvc, &pv, pod, node, path, loc)
	vb.Spec.ParentSnapshotID = r.parentSnapshot(ctx, b.Namespace, string(pvc.UID), loc)
	return vb, rec, ""
}

// dataPath applies the volume policy: PVC annotation, then StorageClass,
// then CSI driver, then the default (snapshot-move).
func dataPath(p v1alpha1.VolumePolicy, pvc *corev1.PersistentVolumeClaim, driver string) v1alpha1.DataPath {
	if d := v1alpha1.DataPath(pvc.Annotations[v1alpha1.AnnotationVolumePolicy]); validPath(d) {
		return d
	}
	if pvc.Spec.StorageClassName != nil {
		if d, ok := p.StorageClasses[*pvc.Spec.StorageClassName]; ok {
			return d
		}
	}
	if d, ok := p.Drivers[driver]; ok && driver != "" {
		return d
	}
	if p.Default != "" {
		return p.Default
	}
	return v1alpha1.DataPathSnapshotMove
}

func (r *Reconciler) workItem(b *v1alpha1.Backup, pvc *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume,
	pod *corev1.Pod, node string, path v1alpha1.DataPath, loc string) *v1alpha1.VolumeBackup {
	src := v1alpha1.VolumeSource{PVC: v1alpha1.ObjectRef{Namespace: pvc.Namespace, Name: pvc.Name}, PVName: pv.Name}
	if pvc.Spec.StorageClassName != nil {
		src.StorageClassName = *pvc.Spec.StorageClassName
	}
	if pv.Spec.CSI != nil {
		src.CSIDriver, src.VolumeHandle = pv.Spec.CSI.Driver, pv.Spec.CSI.VolumeHandle
	}
	if pv.Spec.VolumeMode != nil {
		src.VolumeMode = v1alpha1.VolumeMode(*pv.Spec.VolumeMode)
	}
	if c, ok := pv.Spec.Capacity[corev1.ResourceStorage]; ok {
		src.Capacity = &c
	}
	if pod != nil {
		src.Pod = &v1alpha1.ObjectRef{Namespace: pod.Namespace, Name: pod.Name}
	}
	vb := &v1alpha1.VolumeBackup{}
	vb.Name = workName(b.Name, pvc.Namespace+"/"+pvc.Name)
	vb.Namespace = b.Namespace
	vb.Labels = map[string]string{v1alpha1.LabelBackup: b.Name, v1alpha1.LabelNode: node, labelPVCUID: string(pvc.UID)}
	vb.Spec = v1alpha1.VolumeBackupSpec{NodeName: node, BackupName: b.Name, LocationName: loc, DataPath: path, Volume: src,
		Tags: map[string]string{"backup": b.Name, "pvc": pvc.Namespace + "/" + pvc.Name}}
	return vb
}

// labelPVCUID lets the next backup of the same PVC find its parent.
const labelPVCUID = "cairn.dev/pvc-uid"

// workName is stable for a backup and a volume, so re-running a phase after
// a controller restart finds the items it already created.
func workName(backup, key string) string {
	sum := sha256.Sum256([]byte(key))
	name := backup
	if len(name) > 40 {
		name = name[:40]
	}
	return name + "-" + hex.EncodeToString(sum[:6])
}
