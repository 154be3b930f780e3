package placement

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// pinned is a PV whose node affinity allows only the named node.
func pinned(nodeName string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv"}, Spec: corev1.PersistentVolumeSpec{
		NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}}}}}}}}}
}

func node(name string, isReady bool) *corev1.Node {
	st := corev1.ConditionFalse
	if isReady {
		st = corev1.ConditionTrue
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}}}
}

func csiNode(name string, drivers ...string) *storagev1.CSINode {
	cn := &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, d := range drivers {
		cn.Spec.Drivers = append(cn.Spec.Drivers, storagev1.CSINodeDriver{Name: d, NodeID: name})
	}
	return cn
}

func work(name, nodeName string, phase v1alpha1.WorkPhase) *v1alpha1.VolumeBackup {
	return &v1alpha1.VolumeBackup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "cairn"},
		Spec: v1alpha1.VolumeBackupSpec{NodeName: nodeName}, Status: v1alpha1.WorkStatus{Phase: phase}}
}

func newClient(t *testing.T, objs ...client.Object) client.Client {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
}

func TestPickNode(t *testing.T) {
	ctx := context.Background()
	base := []client.Object{node("a", true), node("b", true), node("c", false),
		csiNode("a", "hostpath.csi.cairn.dev"), csiNode("b", "hostpath.csi.cairn.dev"), csiNode("c", "hostpath.csi.cairn.dev")}
	cases := []struct {
		name    string
		extra   []client.Object
		pod     *corev1.Pod
		pv      *corev1.PersistentVolume
		driver  string
		want    string
		wantErr bool
	}{
		{name: "pod's node wins", pod: &corev1.Pod{Spec: corev1.PodSpec{NodeName: "c"}}, driver: "x", want: "c"},
		{name: "least loaded ready node", extra: []client.Object{work("w1", "a", v1alpha1.WorkInProgress)}, driver: "hostpath.csi.cairn.dev", want: "b"},
		{name: "finished work does not count", extra: []client.Object{work("w1", "a", v1alpha1.WorkCompleted)}, driver: "hostpath.csi.cairn.dev", want: "a"},
		{name: "no node runs the driver", driver: "other.csi", wantErr: true},
		{name: "the volume's node affinity wins over load", extra: []client.Object{work("w1", "b", v1alpha1.WorkInProgress)},
			pv: pinned("b"), driver: "hostpath.csi.cairn.dev", want: "b"},
		{name: "affinity to a node without the driver", pv: pinned("z"), driver: "hostpath.csi.cairn.dev", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, append(append([]client.Object{}, base...), tc.extra...)...)
			got, err := PickNode(ctx, c, Want{Pod: tc.pod, Driver: tc.driver, PV: tc.pv})
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("PickNode = %q, %v; want %q (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestPodMountingPrefersRunning(t *testing.T) {
	claim := func(name string, phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "app"},
			Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}},
			Status: corev1.PodStatus{Phase: phase}}
	}
	c := newClient(t, claim("pending", corev1.PodPending), claim("running", corev1.PodRunning))
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "app"}}
	p, err := PodMounting(context.Background(), c, pvc)
	if err != nil || p == nil || p.Name != "running" {
		t.Fatalf("PodMounting = %v, %v; want the running pod", p, err)
	}
}
