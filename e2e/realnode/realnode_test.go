//go:build realnode

package realnode

import (
	"context"
	"testing"
	"time"
)

const (
	appNamespace      = "shop"
	restoredNamespace = "shop-restored"
)

// TestRealNode runs the scenarios in order on one node: each builds on
// what the one before left (the driver, cairn, the backup).
func TestRealNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c := kubeClient(t)
	t0 := time.Now()
	installDriver(ctx, t, c)
	t.Logf("driver registered with the kubelet in %s", time.Since(t0).Round(time.Millisecond))
}
