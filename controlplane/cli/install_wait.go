package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// workload is a Deployment or DaemonSet install waits for.
type workload struct {
	kind, name string
}

// readiness says how many of a workload's pods are ready.
type readiness struct {
	ready, want int32
	done        bool
}

// waitInstalled waits until every Deployment (the controller) and every
// DaemonSet (the agents, one pod per node) of objs is ready.
func (e *env) waitInstalled(cmd *cobra.Command, objs []*unstructured.Unstructured, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctxOf(cmd), timeout)
	defer cancel()
	c, err := e.kube()
	if err != nil {
		return err
	}
	var ws []workload
	for _, o := range objs {
		if o.GetKind() == "Deployment" || o.GetKind() == "DaemonSet" {
			ws = append(ws, workload{kind: o.GetKind(), name: o.GetName()})
		}
	}
	for _, w := range ws {
		if err := e.waitWorkload(ctx, c, w, timeout); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) waitWorkload(ctx context.Context, c client.Client, w workload, timeout time.Duration) error {
	last := readiness{ready: -1}
	for {
		r, err := e.readiness(ctx, c, w)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if r.done {
			printf(e.cfg.Out, "%s %s ready (%d/%d)\n", w.kind, w.name, r.ready, r.want)
			return nil
		}
		if r != last {
			printf(e.cfg.Out, "Waiting for %s %s: %d/%d pods ready\n", w.kind, w.name, r.ready, r.want)
			last = r
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s/%s not ready after %s (%d/%d pods ready); look at `kubectl -n %s describe %s %s` and its pods' logs",
				w.kind, e.namespace, w.name, timeout, r.ready, r.want, e.namespace, w.kind, w.name)
		case <-time.After(e.cfg.PollInterval):
		}
	}
}

func (e *env) readiness(ctx context.Context, c client.Client, w workload) (readiness, error) {
	key := client.ObjectKey{Namespace: e.namespace, Name: w.name}
	if w.kind == "Deployment" {
		var d appsv1.Deployment
		if err := c.Get(ctx, key, &d); err != nil {
			return readiness{}, fmt.Errorf("read Deployment %s: %w", w.name, err)
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s := d.Status
		done := s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.ReadyReplicas == want && s.AvailableReplicas == want
		return readiness{ready: s.ReadyReplicas, want: want, done: done}, nil
	}
	var ds appsv1.DaemonSet
	if err := c.Get(ctx, key, &ds); err != nil {
		return readiness{}, fmt.Errorf("read DaemonSet %s: %w", w.name, err)
	}
	s := ds.Status
	done := s.ObservedGeneration >= ds.Generation && s.UpdatedNumberScheduled == s.DesiredNumberScheduled &&
		s.NumberReady == s.DesiredNumberScheduled && s.ObservedGeneration > 0
	return readiness{ready: s.NumberReady, want: s.DesiredNumberScheduled, done: done}, nil
}
