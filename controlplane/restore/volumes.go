package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/placement"
	"github.com/cairnbackup/cairn/controlplane/restoreplan"
)

// volumes is the volume stage's work: one VolumeRestore per PVC with data.
type volumes struct {
	items   []v1alpha1.VolumeRestore
	targets map[v1alpha1.ObjectRef]bool // restored PVCs that get their data back
}

// skipPV leaves out a backed-up PV whose claim gets a new volume from the
// backup's data: it points at the old volume, which the restore must not
// reuse or fight over.
func (v volumes) skipPV(it restoreplan.Item) string {
	if it.GroupResource.Resource != "persistentvolumes" {
		return ""
	}
	ns, _, _ := unstructured.NestedString(it.Object.Object, "spec", "claimRef", "namespace")
	name, _, _ := unstructured.NestedString(it.Object.Object, "spec", "claimRef", "name")
	if v.targets[v1alpha1.ObjectRef{Namespace: ns, Name: name}] {
		return "a new volume is provisioned for its claim from the backup's data"
	}
	return ""
}

// volumeWork builds the VolumeRestores for the PVCs being restored whose
// data the backup holds. Nodes are chosen later, when they are created.
func volumeWork(rs *v1alpha1.Restore, b *v1alpha1.Backup, items []restoreplan.Item, loc string) volumes {
	v := volumes{targets: map[v1alpha1.ObjectRef]bool{}}
	if rs.Spec.RestoreVolumes != nil && !*rs.Spec.RestoreVolumes {
		return v
	}
	snaps := map[v1alpha1.ObjectRef]v1alpha1.VolumeSnapshotRecord{}
	for _, rec := range b.Status.VolumeSnapshots {
		if rec.Phase == v1alpha1.WorkCompleted && rec.SnapshotID != "" {
			snaps[rec.PVC] = rec
		}
	}
	for _, it := range items {
		if it.GroupResource.Resource != "persistentvolumeclaims" || it.GroupResource.Group != "" {
			continue
		}
		rec, ok := snaps[v1alpha1.ObjectRef{Namespace: it.SourceNamespace, Name: it.Object.GetName()}]
		if !ok {
			continue
		}
		target := v1alpha1.ObjectRef{Namespace: it.Object.GetNamespace(), Name: it.Object.GetName()}
		v.targets[target] = true
		vr := workItem(rs, it.Object, target, rec.SnapshotID, loc)
		vr.Spec.Target.CSIDriver = rec.CSIDriver
		v.items = append(v.items, vr)
	}
	return v
}

func workItem(rs *v1alpha1.Restore, pvc *unstructured.Unstructured, target v1alpha1.ObjectRef, snap, loc string) v1alpha1.VolumeRestore {
	src := v1alpha1.VolumeSource{PVC: target}
	src.StorageClassName, _, _ = unstructured.NestedString(pvc.Object, "spec", "storageClassName")
	mode, _, _ := unstructured.NestedString(pvc.Object, "spec", "volumeMode")
	src.VolumeMode = v1alpha1.VolumeMode(mode)
	if size, ok, _ := unstructured.NestedString(pvc.Object, "spec", "resources", "requests", "storage"); ok {
		if q, err := resource.ParseQuantity(size); err == nil {
			src.Capacity = &q
		}
	}
	sum := sha256.Sum256([]byte(target.Namespace + "/" + target.Name))
	name := rs.Name
	if len(name) > 40 {
		name = name[:40]
	}
	vr := v1alpha1.VolumeRestore{}
	vr.Name, vr.Namespace = name+"-"+hex.EncodeToString(sum[:6]), rs.Namespace
	vr.Labels = map[string]string{v1alpha1.LabelRestore: rs.Name}
	vr.Spec = v1alpha1.VolumeRestoreSpec{RestoreName: rs.Name, LocationName: loc, SnapshotID: snap,
		DataPath: v1alpha1.DataPathSnapshotMove, Target: src}
	return vr
}

// createWork picks the node, sets the owner and creates the item.
func (r *Reconciler) createWork(ctx context.Context, rs *v1alpha1.Restore, vr *v1alpha1.VolumeRestore) error {
	// The class's provisioner, else the driver of the backed-up volume (a
	// claim with no class, or a class this cluster lacks).
	driver := r.driverOf(ctx, vr.Spec.Target.StorageClassName)
	if driver == "" {
		driver = vr.Spec.Target.CSIDriver
	}
	vr.Spec.Target.CSIDriver = driver
	node, err := placement.PickNode(ctx, r.Client, placement.Want{Driver: driver})
	if err != nil {
		return fmt.Errorf("volume %s/%s: %w", vr.Spec.Target.PVC.Namespace, vr.Spec.Target.PVC.Name, err)
	}
	vr.Spec.NodeName = node
	vr.Labels[v1alpha1.LabelNode] = node
	if err := controllerutil.SetControllerReference(rs, vr, r.Client.Scheme()); err != nil {
		return err
	}
	if err := r.Client.Create(ctx, vr); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create volume restore for %s/%s: %w", vr.Spec.Target.PVC.Namespace, vr.Spec.Target.PVC.Name, err)
	}
	return nil
}

// driverOf returns the CSI driver that provisions a storage class, or "".
func (r *Reconciler) driverOf(ctx context.Context, class string) string {
	if class == "" {
		return ""
	}
	var sc storagev1.StorageClass
	if err := r.Client.Get(ctx, client.ObjectKey{Name: class}, &sc); err != nil {
		return ""
	}
	return sc.Provisioner
}
