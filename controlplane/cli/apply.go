package cli

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// fieldOwner is the server-side apply manager of what the CLI installs.
const fieldOwner = "cairn"

// applyResult says what an apply changed.
type applyResult string

const (
	applyCreated    applyResult = "created"
	applyConfigured applyResult = "configured"
	applyUnchanged  applyResult = "unchanged"
)

// applyObject server-side applies o. Applying the same object again
// changes nothing, so install is idempotent.
func applyObject(ctx context.Context, c client.Client, o client.Object) error {
	_, err := applyReport(ctx, c, o)
	return err
}

// applyReport applies o and compares resourceVersions to tell whether the
// server changed it.
func applyReport(ctx context.Context, c client.Client, o client.Object) (applyResult, error) {
	u, err := toUnstructured(o)
	if err != nil {
		return "", err
	}
	u = u.DeepCopy()
	before := &unstructured.Unstructured{}
	before.SetGroupVersionKind(u.GroupVersionKind())
	err = c.Get(ctx, client.ObjectKeyFromObject(u), before)
	if err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("read %s: %w", resourceName(u), err)
	}
	existed := err == nil
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return "", fmt.Errorf("apply %s: %w", resourceName(u), err)
	}
	switch {
	case !existed:
		return applyCreated, nil
	case u.GetResourceVersion() == before.GetResourceVersion():
		return applyUnchanged, nil
	}
	return applyConfigured, nil
}

// waitEstablished waits until every CRD in objs serves its kinds.
func waitEstablished(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		for !established(ctx, c, o) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("CRD %s was not established within %s; check the API server", o.GetName(), timeout)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

func established(ctx context.Context, c client.Client, crd *unstructured.Unstructured) bool {
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(crd.GroupVersionKind())
	if err := c.Get(ctx, client.ObjectKeyFromObject(crd), got); err != nil {
		return false
	}
	conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
	for _, cd := range conds {
		if m, ok := cd.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
