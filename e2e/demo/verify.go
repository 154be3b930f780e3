package demo

import (
	"context"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/e2e/localcluster"
)

// verify compares the restored namespace with the shop as it was backed
// up: every object's content, and every volume byte for byte.
func (d *demo) verify(ctx context.Context) error {
	d.say("Verifying %s against the shop as it was at tuesday's backup.", restoredNS)
	var problems []string
	for _, check := range []func(context.Context) (string, error){d.verifyObjects, d.verifyCatalog, d.verifyOrders} {
		line, err := check(ctx)
		if err != nil {
			problems = append(problems, err.Error())
			fmt.Fprintf(d.out, "  MISMATCH  %v\n", err)
			continue
		}
		fmt.Fprintf(d.out, "  ok        %s\n", line)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %v", errMismatch, problems)
	}
	return nil
}

// verifyObjects compares the restored objects' contents.
func (d *demo) verifyObjects(ctx context.Context) (string, error) {
	n := 0
	for _, o := range shopObjects()[1:] {
		got := o.DeepCopyObject().(client.Object)
		if err := d.c.Client.Get(ctx, client.ObjectKey{Namespace: restoredNS, Name: o.GetName()}, got); err != nil {
			return "", fmt.Errorf("%T %s/%s: %w", o, restoredNS, o.GetName(), err)
		}
		if a, b := content(o), content(got); !reflect.DeepEqual(a, b) {
			return "", fmt.Errorf("%T %s differs: %v, want %v", o, o.GetName(), b, a)
		}
		n++
	}
	return fmt.Sprintf("%d objects: ConfigMap, Secret, Service and Deployment contents equal", n), nil
}

// content is what a restore must bring back of each kind.
func content(o client.Object) any {
	switch v := o.(type) {
	case *corev1.ConfigMap:
		return v.Data
	case *corev1.Secret:
		data := map[string]string{}
		for k, b := range v.Data {
			data[k] = string(b)
		}
		for k, s := range v.StringData {
			data[k] = s
		}
		return data
	case *corev1.Service:
		return []any{v.Spec.Selector, v.Spec.Ports[0].Port, v.Spec.Ports[0].TargetPort.IntValue()}
	case *appsv1.Deployment:
		return []any{*v.Spec.Replicas, v.Spec.Template.Spec.Containers[0].Image, v.Spec.Selector.MatchLabels}
	}
	return nil
}

func (d *demo) verifyCatalog(ctx context.Context) (string, error) {
	path, closeFn, err := d.c.OpenClaim(ctx, restoredNS, "catalog")
	if err != nil {
		return "", fmt.Errorf("catalog: %w", err)
	}
	got, err := localcluster.DigestTree(path)
	if cerr := closeFn(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("catalog: %w", err)
	}
	if got != d.wantCatalog {
		return "", fmt.Errorf("catalog: the restored tree differs from the backed-up one")
	}
	return "catalog: every file, mode, link and byte equal", nil
}

func (d *demo) verifyOrders(ctx context.Context) (string, error) {
	path, closeFn, err := d.c.OpenClaim(ctx, restoredNS, "orders")
	if err != nil {
		return "", fmt.Errorf("orders: %w", err)
	}
	got, err := localcluster.DigestImage(path, d.sizes.dbVolume)
	if cerr := closeFn(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("orders: %w", err)
	}
	if got != d.wantOrders {
		return "", fmt.Errorf("orders: the restored block volume differs from the backed-up one")
	}
	return fmt.Sprintf("orders: all %s of the block volume equal, unallocated ranges included", human(d.sizes.dbVolume)), nil
}
