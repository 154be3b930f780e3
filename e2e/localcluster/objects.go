package localcluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/csi/hostpath"
)

// baseObjects creates cairn's namespace and the reference driver's storage
// class.
func (c *Cluster) baseObjects(ctx context.Context) error {
	bind := storagev1.VolumeBindingWaitForFirstConsumer
	expand := true
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: StorageClass}, Provisioner: DriverName,
		VolumeBindingMode: &bind, AllowVolumeExpansion: &expand}
	objs := []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.Namespace}}}
	if c.cfg.CSISecret != nil {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: csiSecretName, Namespace: c.Namespace}, Data: map[string][]byte{}}
		for k, v := range c.cfg.CSISecret {
			sec.Data[k] = []byte(v)
		}
		objs = append(objs, sec)
		sc.Parameters = map[string]string{}
		for _, p := range []string{"provisioner", "snapshotter"} {
			sc.Parameters["csi.storage.k8s.io/"+p+"-secret-name"] = csiSecretName
			sc.Parameters["csi.storage.k8s.io/"+p+"-secret-namespace"] = c.Namespace
		}
	}
	objs = append(objs, sc)
	for _, o := range objs {
		if err := c.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// csiSecretName is the Secret the storage class names for CSI secrets.
const csiSecretName = "csi-credentials"

// registerNode creates a Ready Node with the driver's topology label and
// its CSINode, as the kubelet and the driver's registrar would.
func (c *Cluster) registerNode(ctx context.Context, n *Node) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name,
		Labels: map[string]string{"kubernetes.io/hostname": n.Name, hostpath.TopologyKey: n.Name}}}
	if err := c.Client.Create(ctx, node); err != nil {
		return fmt.Errorf("create node %s: %w", n.Name, err)
	}
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "KubeletReady", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if err := c.Client.Status().Update(ctx, node); err != nil {
		return fmt.Errorf("mark node %s ready: %w", n.Name, err)
	}
	cn := &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: n.Name},
		Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{Name: DriverName, NodeID: n.Name,
			TopologyKeys: []string{hostpath.TopologyKey}}}}}
	if err := c.Client.Create(ctx, cn); err != nil {
		return fmt.Errorf("create CSINode %s: %w", n.Name, err)
	}
	return nil
}

// LocationSpec says where a location's repository lives.
type LocationSpec struct {
	// URL is a directory path or s3://bucket/prefix.
	URL string
	// S3Endpoint, AccessKey and SecretKey for an s3:// URL.
	S3Endpoint, AccessKey, SecretKey string
	Password                         string
}

// AddLocation creates a BackupLocation with its Secrets.
func (c *Cluster) AddLocation(ctx context.Context, name string, s LocationSpec) error {
	pw := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-password", Namespace: c.Namespace},
		Data: map[string][]byte{"password": []byte(s.Password)}}
	loc := &v1alpha1.BackupLocation{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace},
		Spec: v1alpha1.BackupLocationSpec{URL: s.URL, PasswordSecretRef: v1alpha1.SecretKeyRef{Name: pw.Name, Key: "password"}}}
	objs := []client.Object{pw}
	if s.S3Endpoint != "" {
		creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-s3", Namespace: c.Namespace},
			Data: map[string][]byte{"AWS_ACCESS_KEY_ID": []byte(s.AccessKey), "AWS_SECRET_ACCESS_KEY": []byte(s.SecretKey)}}
		objs = append(objs, creds)
		loc.Spec.CredentialsSecret = creds.Name
		loc.Spec.S3 = &v1alpha1.S3Options{Endpoint: s.S3Endpoint, PathStyle: true, Region: "us-east-1"}
	}
	for _, o := range append(objs, loc) {
		if err := c.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}
