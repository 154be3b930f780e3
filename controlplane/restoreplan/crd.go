package restoreplan

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
)

// crdPollInterval is how often a restored CRD's conditions are read. The
// API server establishes a CRD in about a second; a quarter of that keeps
// the restore prompt at a handful of GETs per CRD.
const crdPollInterval = 250 * time.Millisecond

// waitEstablished waits until the CRD's Established condition is True, so
// that its instances can be created. NamesAccepted=False ends the wait at
// once: the names conflict with another CRD and will not be accepted
// by waiting.
func waitEstablished(ctx context.Context, a *applier, name string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultCRDTimeout
	}
	var last string
	err := wait.PollUntilContextTimeout(ctx, crdPollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		crd, err := a.rc.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			last = "not found"
			return false, nil
		}
		if err != nil {
			return false, err
		}
		established, msg := crdConditions(crd)
		last = msg
		if rejected := conditionFalse(crd, "NamesAccepted"); rejected != "" {
			return false, fmt.Errorf("%w: names not accepted: %s", ErrCRDNotEstablished, rejected)
		}
		return established, nil
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCRDNotEstablished):
		return fmt.Errorf("%s: %w", a.it.Ref(), err)
	case wait.Interrupted(err) && ctx.Err() == nil:
		return fmt.Errorf("%s: %w after %s (%s); check the CRD's conditions", a.it.Ref(), ErrCRDNotEstablished, timeout, last)
	}
	return fmt.Errorf("%s: wait for Established: %w", a.it.Ref(), err)
}

// crdConditions reports whether Established is True, and a summary of the
// conditions for the error message when it never becomes so.
func crdConditions(crd *unstructured.Unstructured) (bool, string) {
	conds, _, _ := nestedSlice(crd.Object, "status", "conditions")
	established := false
	msg := "no conditions yet"
	for _, c := range conds {
		m, _ := c.(map[string]any)
		t, _ := m["type"].(string)
		s, _ := m["status"].(string)
		if t == "Established" {
			established = s == "True"
			msg = fmt.Sprintf("Established=%s", s)
			if reason, _ := m["message"].(string); reason != "" {
				msg += ": " + reason
			}
		}
	}
	return established, msg
}

// conditionFalse returns the message of condition t when it is False.
func conditionFalse(crd *unstructured.Unstructured, t string) string {
	conds, _, _ := nestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == t && m["status"] == "False" {
			if msg, _ := m["message"].(string); msg != "" {
				return msg
			}
			return t + "=False"
		}
	}
	return ""
}
