//go:build realnode

package realnode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/testenv"
	"github.com/cairnbackup/cairn/csi"
)

const (
	driverName      = "hostpath.csi.cairn.dev"
	driverNamespace = "cairn-csi-hostpath"
	cairnNamespace  = "cairn-system"
	driverSocket    = KubeletDir + "/plugins/" + driverName + "/csi.sock"
)

func kubeClient(t *testing.T) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cluster.Rest, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// applyManifest creates every object of a multi-document YAML file.
func applyManifest(ctx context.Context, t *testing.T, c client.Client, raw []byte) {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatal(err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := c.Create(ctx, u); err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// cairnCLI runs the cairn binary built for the images against the node.
func cairnCLI(ctx context.Context, t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, filepath.Join(cluster.BinDir, "cairn"), append([]string{"--kubeconfig", cluster.AdminKubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cairn %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// execIn runs cmd in a container through the API server and the kubelet
// (pods/exec), as kubectl exec does.
func execIn(ctx context.Context, ns, pod, container string, cmd ...string) (string, error) {
	req := cluster.Kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, clientgoscheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(cluster.Rest, "POST", req.URL())
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr}); err != nil {
		return stdout.String(), fmt.Errorf("exec in %s/%s: %w: %s", ns, pod, err, stderr.String())
	}
	return stdout.String(), nil
}

func waitPod(ctx context.Context, t *testing.T, ns, name string, timeout time.Duration, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	err := waitFor(timeout, fmt.Sprintf("pod %s/%s", ns, name), func() (bool, error) {
		p, err := cluster.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pod = p
		return ok(p), fmt.Errorf("phase %s, conditions %v", p.Status.Phase, p.Status.Conditions)
	})
	if err != nil {
		t.Fatal(err)
	}
	return pod
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// installDriver runs the reference driver's example DaemonSet with the
// locally built image and waits until the kubelet lists the driver in the
// node's CSINode, which it does only after the registration handshake and
// its own NodeGetInfo call.
func installDriver(ctx context.Context, t *testing.T, c client.Client) {
	t.Helper()
	root, _ := testenv.ModuleRoot()
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "examples", "csi-hostpath.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("ghcr.io/cairnbackup/cairn-csi-hostpath:latest"), []byte(DriverImage))
	applyManifest(ctx, t, c, raw)
	if err := waitFor(2*time.Minute, "driver in CSINode", func() (bool, error) {
		return csiNodeHasDriver(ctx)
	}); err != nil {
		t.Fatal(err)
	}
}

func csiNodeHasDriver(ctx context.Context) (bool, error) {
	n, err := cluster.Kube.StorageV1().CSINodes().Get(ctx, NodeName, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	for _, d := range n.Spec.Drivers {
		if d.Name == driverName {
			return d.NodeID == NodeName, fmt.Errorf("driver listed with node ID %q", d.NodeID)
		}
	}
	return false, fmt.Errorf("CSINode lists %d drivers, not %s", len(n.Spec.Drivers), driverName)
}

// storageClass names the driver for the volumes of the test. Nothing
// provisions from it (there is no external-provisioner here); it is how
// cairn's restore learns which driver re-creates a volume, as in any
// cluster whose claims name a class.
const storageClass = "cairn-hostpath"

func createStorageClass(ctx context.Context, t *testing.T) {
	t.Helper()
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: storageClass}, Provisioner: driverName}
	if _, err := cluster.Kube.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// volume is a pre-provisioned volume: made with CreateVolume on the
// driver (there is no external-provisioner), its PV bound to a PVC by the
// real PV controller.
type volume struct {
	ID, PV, PVC string
	Block       bool
}

// provision creates a volume, a PV for it and a PVC in ns pre-bound to it,
// and waits until the PV controller has bound them. A block volume gets an
// ext4 file system (the application mounts it and freezes it).
func provision(ctx context.Context, t *testing.T, ns, name string, size int64, block bool) volume {
	t.Helper()
	conn, err := csi.Dial(csi.Config{Endpoint: "unix://" + driverSocket, Driver: driverName})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	access := csi.Mount
	if block {
		access = csi.Block
	}
	v, err := conn.CreateVolume(ctx, csi.VolumeRequest{Name: ns + "-" + name, CapacityBytes: size, Access: access,
		Topology: map[string]string{"topology.hostpath.csi.cairn.dev/node": NodeName}})
	if err != nil {
		t.Fatalf("CreateVolume %s: %v", name, err)
	}
	if block {
		img := filepath.Join(DriverRoot, "volumes", v.ID+".img")
		if _, err := run("mkfs.ext4", "-q", "-F", img); err != nil {
			t.Fatal(err)
		}
	}
	vol := volume{ID: v.ID, PV: ns + "-" + name, PVC: name, Block: block}
	mode := corev1.PersistentVolumeFilesystem
	if block {
		mode = corev1.PersistentVolumeBlock
	}
	q := *resource.NewQuantity(size, resource.BinarySI)
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: vol.PV},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: q},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeMode: &mode,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain, StorageClassName: storageClass,
			ClaimRef: &corev1.ObjectReference{Namespace: ns, Name: name},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: driverName, VolumeHandle: v.ID, VolumeAttributes: v.Context}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "topology.hostpath.csi.cairn.dev/node",
					Operator: corev1.NodeSelectorOpIn, Values: []string{NodeName}}}}}}},
		},
	}
	if _, err := cluster.Kube.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	class := storageClass
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeMode: &mode,
			StorageClassName: &class, VolumeName: vol.PV,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: q}},
		},
	}
	if _, err := cluster.Kube.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(time.Minute, "PVC "+name+" bound", func() (bool, error) {
		p, err := cluster.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return p.Status.Phase == corev1.ClaimBound, fmt.Errorf("phase %s", p.Status.Phase)
	}); err != nil {
		t.Fatal(err)
	}
	return vol
}
