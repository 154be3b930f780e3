package nodeagent

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// event records an item's end on the item.
func (a *Agent) event(obj client.Object, o outcome) {
	if a.recorder == nil {
		return
	}
	kind, reason := "Normal", string(o.phase)
	if o.phase == v1alpha1.WorkFailed {
		kind = "Warning"
	}
	a.recorder.Eventf(obj, nil, kind, reason, "DataMovement", "%s", o.message)
}

// names maps "kind/namespace/name" to running items, so a deleted item
// (gone from the cache, known only by name) can still be stopped.
type names struct {
	mu sync.Mutex
	m  map[string]itemKey
}

func (a *Agent) byName(k itemKey, obj client.Object) {
	a.names.mu.Lock()
	defer a.names.mu.Unlock()
	if a.names.m == nil {
		a.names.m = map[string]itemKey{}
	}
	a.names.m[k.kind+"/"+obj.GetNamespace()+"/"+obj.GetName()] = k
}

func (a *Agent) cancelByName(kind, nsName string) {
	a.names.mu.Lock()
	k, ok := a.names.m[kind+"/"+nsName]
	a.names.mu.Unlock()
	if ok {
		a.runner.cancel(k, errItemGone)
	}
}

func uidOf(s string) types.UID { return types.UID(s) }

// Ready reports whether the agent can take work: its first cleanup sweep
// is done and every driver it uses answers its probe.
func (a *Agent) Ready(ctx context.Context) error {
	select {
	case <-a.swept:
	default:
		return fmt.Errorf("the start-up cleanup has not finished")
	}
	for name := range a.cfg.Drivers {
		if _, err := a.drivers.get(ctx, name); err != nil {
			return err
		}
	}
	return a.drivers.probeAll(ctx)
}
