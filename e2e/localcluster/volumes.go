package localcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/csi"
	"github.com/cairnbackup/cairn/csi/hostpath"
)

// VolumeSpec is an application volume to provision.
type VolumeSpec struct {
	Namespace, PVC string
	Node           string
	Size           int64
	Block          bool
	Labels         map[string]string
	// NoClass leaves the PV and PVC without a storage class, as
	// statically provisioned volumes often are.
	NoClass bool
}

// Volume is a provisioned volume.
type Volume struct {
	Spec   VolumeSpec
	PVName string
	Handle string
	node   *Node
	pubs   []*publication
}

// publication is a volume published at a path on its node.
type publication struct {
	staging, target string
	block           bool
	handle          string
}

// Provision creates a volume through the node's driver, as an external
// provisioner would, with its PV bound to a new PVC.
func (c *Cluster) Provision(ctx context.Context, s VolumeSpec) (*Volume, error) {
	n, ok := c.Nodes[s.Node]
	if !ok {
		return nil, errorf("no node %q", s.Node)
	}
	conn, err := n.Conn()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	access := csi.Mount
	if s.Block {
		access = csi.Block
	}
	pv := "pv-" + s.Namespace + "-" + s.PVC
	vol, err := conn.CreateVolume(ctx, csi.VolumeRequest{Name: pv, CapacityBytes: s.Size, Access: access,
		Topology: map[string]string{hostpath.TopologyKey: n.Name}, Secrets: c.cfg.CSISecret})
	if err != nil {
		return nil, err
	}
	v := &Volume{Spec: s, PVName: pv, Handle: vol.ID, node: n}
	c.volumes = append(c.volumes, v)
	return v, c.bindObjects(ctx, v, vol.CapacityBytes)
}

// bindObjects creates the PV and its bound PVC.
func (c *Cluster) bindObjects(ctx context.Context, v *Volume, capacity int64) error {
	mode := corev1.PersistentVolumeFilesystem
	if v.Spec.Block {
		mode = corev1.PersistentVolumeBlock
	}
	size := *resource.NewQuantity(capacity, resource.BinarySI)
	class := StorageClass
	if v.Spec.NoClass {
		class = ""
	}
	rwo := []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: v.PVName},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: size}, AccessModes: rwo,
			VolumeMode: &mode, StorageClassName: class, PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			ClaimRef:               &corev1.ObjectReference{Namespace: v.Spec.Namespace, Name: v.Spec.PVC},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: DriverName, VolumeHandle: v.Handle}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: hostpath.TopologyKey, Operator: corev1.NodeSelectorOpIn, Values: []string{v.node.Name}}}}}}}}}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: v.Spec.PVC, Namespace: v.Spec.Namespace, Labels: v.Spec.Labels},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: rwo, StorageClassName: &class, VolumeName: v.PVName, VolumeMode: &mode,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}}}}
	for _, o := range []client.Object{pv, pvc} {
		if err := c.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: rwo, Capacity: corev1.ResourceList{corev1.ResourceStorage: size}}
	return c.Client.Status().Update(ctx, pvc)
}

// PodSpec is a pod that mounts claims on a node.
type PodSpec struct {
	Namespace, Name, Node string
	Claims                []string
	Labels                map[string]string
	Annotations           map[string]string
}

// RunPod creates a Running pod and publishes its claims' volumes under the
// node's kubelet directory, as the kubelet would. It returns where the
// pod sees each claim: a directory, or a device file for a block volume.
func (c *Cluster) RunPod(ctx context.Context, s PodSpec) (map[string]string, error) {
	n, ok := c.Nodes[s.Node]
	if !ok {
		return nil, errorf("no node %q", s.Node)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, Labels: s.Labels, Annotations: s.Annotations},
		Spec: corev1.PodSpec{NodeName: n.Name, Containers: []corev1.Container{{Name: "app", Image: "app:local"}}}}
	for _, claim := range s.Claims {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: claim,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
	if err := c.Client.Create(ctx, pod); err != nil {
		return nil, fmt.Errorf("create pod %s/%s: %w", s.Namespace, s.Name, err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	if err := c.Client.Status().Update(ctx, pod); err != nil {
		return nil, err
	}
	paths := map[string]string{}
	for _, claim := range s.Claims {
		v := c.volume(s.Namespace, claim)
		if v == nil {
			return nil, errorf("claim %s/%s was not provisioned here", s.Namespace, claim)
		}
		p, err := v.publishForPod(ctx, string(pod.UID))
		if err != nil {
			return nil, err
		}
		paths[claim] = p
	}
	return paths, nil
}

func (c *Cluster) volume(ns, claim string) *Volume {
	for _, v := range c.volumes {
		if v.Spec.Namespace == ns && v.Spec.PVC == claim {
			return v
		}
	}
	return nil
}

// publishForPod publishes the volume read-write at the kubelet's path for
// the pod.
func (v *Volume) publishForPod(ctx context.Context, podUID string) (string, error) {
	kd := v.node.KubeletDir
	sum := sha256.Sum256([]byte(v.PVName))
	p := &publication{handle: v.Handle, block: v.Spec.Block,
		staging: filepath.Join(kd, "plugins", "kubernetes.io", "csi", DriverName, hex.EncodeToString(sum[:8]), "globalmount"),
		target:  filepath.Join(kd, "pods", podUID, "volumes", "kubernetes.io~csi", v.PVName, "mount")}
	if v.Spec.Block {
		p.target = filepath.Join(kd, "pods", podUID, "volumeDevices", "kubernetes.io~csi", v.PVName)
	}
	if err := publish(ctx, v.node, p, false); err != nil {
		return "", err
	}
	v.pubs = append(v.pubs, p)
	return p.target, nil
}

// publish stages and publishes p on node n.
func publish(ctx context.Context, n *Node, p *publication, readOnly bool) error {
	if err := os.MkdirAll(p.staging, 0o750); err != nil {
		return err
	}
	if p.block {
		if err := os.MkdirAll(filepath.Dir(p.target), 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(p.target, nil, 0o600); err != nil {
			return err
		}
	} else if err := os.MkdirAll(p.target, 0o750); err != nil {
		return err
	}
	conn, err := n.Conn()
	if err != nil {
		return err
	}
	defer conn.Close()
	access := csi.Mount
	if p.block {
		access = csi.Block
	}
	m := csi.Mounting{VolumeID: p.handle, Access: access, ReadOnly: readOnly, StagingPath: p.staging, TargetPath: p.target}
	if err := conn.Stage(ctx, m); err != nil {
		return err
	}
	return conn.Publish(ctx, m, true)
}

// unpublish undoes every publication of the volume.
func (v *Volume) unpublish(ctx context.Context) error {
	var errs []error
	for _, p := range v.pubs {
		errs = append(errs, unpublish(ctx, v.node, p))
	}
	v.pubs = nil
	return errors.Join(errs...)
}

func unpublish(ctx context.Context, n *Node, p *publication) error {
	conn, err := n.Conn()
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Unpublish(ctx, p.handle, p.target); err != nil {
		return err
	}
	return conn.Unstage(ctx, p.handle, p.staging)
}

// StopPods unpublishes the volumes of every pod in namespace, as the
// kubelet does when the pods are deleted.
func (c *Cluster) StopPods(ctx context.Context, namespace string) error {
	var errs []error
	for _, v := range c.volumes {
		if v.Spec.Namespace == namespace {
			errs = append(errs, v.unpublish(ctx))
		}
	}
	return errors.Join(errs...)
}

// OpenClaim publishes the volume bound to a claim read-only on the node
// its PV is pinned to and returns the path; close unpublishes it.
func (c *Cluster) OpenClaim(ctx context.Context, namespace, claim string) (path string, closeFn func() error, err error) {
	var pvc corev1.PersistentVolumeClaim
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: claim}, &pvc); err != nil {
		return "", nil, err
	}
	if pvc.Spec.VolumeName == "" {
		return "", nil, errorf("claim %s/%s is not bound", namespace, claim)
	}
	var pv corev1.PersistentVolume
	if err := c.Client.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, &pv); err != nil {
		return "", nil, err
	}
	n, err := c.nodeOf(&pv)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(n.Dir, "open-")
	if err != nil {
		return "", nil, err
	}
	p := &publication{handle: pv.Spec.CSI.VolumeHandle, staging: filepath.Join(dir, "staging"), target: filepath.Join(dir, "target"),
		block: pv.Spec.VolumeMode != nil && *pv.Spec.VolumeMode == corev1.PersistentVolumeBlock}
	if err := publish(ctx, n, p, true); err != nil {
		return "", nil, errors.Join(err, unpublish(ctx, n, p))
	}
	return p.target, func() error {
		if err := unpublish(context.Background(), n, p); err != nil {
			return err // never remove a directory something may still be mounted in
		}
		return os.RemoveAll(dir)
	}, nil
}

// nodeOf is the node a PV's affinity pins it to.
func (c *Cluster) nodeOf(pv *corev1.PersistentVolume) (*Node, error) {
	if a := pv.Spec.NodeAffinity; a != nil && a.Required != nil {
		for _, t := range a.Required.NodeSelectorTerms {
			for _, e := range t.MatchExpressions {
				if e.Key == hostpath.TopologyKey && len(e.Values) == 1 {
					if n, ok := c.Nodes[e.Values[0]]; ok {
						return n, nil
					}
				}
			}
		}
	}
	return nil, errorf("PV %s is pinned to no node of this cluster", pv.Name)
}

// DeleteVolume removes a provisioned volume from its node's driver, as a
// provisioner does when its PV is deleted; its publications go first.
func (c *Cluster) DeleteVolume(ctx context.Context, v *Volume) error {
	if err := v.unpublish(ctx); err != nil {
		return err
	}
	conn, err := v.node.Conn()
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.DeleteVolume(ctx, v.Handle, c.cfg.CSISecret); err != nil {
		return err
	}
	for i, o := range c.volumes {
		if o == v {
			c.volumes = append(c.volumes[:i], c.volumes[i+1:]...)
			break
		}
	}
	return nil
}
