package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Why an item stops other than by finishing.
var (
	errItemGone     = errors.New("the work item was deleted")
	errItemCanceled = errors.New("the work item was canceled")
	errItemLost     = errors.New("another agent took the work item over")
)

// work is one item being run by this agent.
type work struct {
	a    *Agent
	kind string
	key  client.ObjectKey
	obj  client.Object // the item as last written
	rec  *record
	log  *slog.Logger
	// resume is set when the item was taken over from a stopped agent:
	// its backup looks for the packs the stopped run stored (see
	// archiver.Options.Resume).
	resume bool

	mu       sync.Mutex
	warnings []string
	progress func() (done, total int64)
	lastDone int64
	lastAt   time.Time
	rate     int64
}

func (a *Agent) newWork(obj client.Object) *work {
	kind := kindOf(obj)
	w := &work{a: a, kind: kind, key: client.ObjectKeyFromObject(obj), obj: obj,
		rec: &record{Kind: kind, UID: string(obj.GetUID()), Namespace: obj.GetNamespace(), Name: obj.GetName()},
		log: a.cfg.Logger.With("item", kind+"/"+obj.GetName())}
	w.lastAt = a.now()
	return w
}

// update applies fn to the item's latest status and writes it with a new
// heartbeat, retrying on conflicts. It fails with errItemGone,
// errItemCanceled or errItemLost when the item is no longer this agent's
// to work on.
func (w *work) update(ctx context.Context, fn func(st *v1alpha1.WorkStatus)) error {
	var err error
	for range 5 {
		fresh := newItem(w.kind)
		if err = w.a.reader.Get(ctx, w.key, fresh); err != nil {
			if apierrors.IsNotFound(err) {
				return errItemGone
			}
			return fmt.Errorf("read work item %s: %w", w.key.Name, err)
		}
		if err := w.owned(fresh); err != nil {
			return err
		}
		st := statusOf(fresh)
		fn(st)
		now := metav1.NewTime(w.a.now())
		st.HeartbeatTime = &now
		if err = w.a.client.Status().Update(ctx, fresh); err == nil {
			w.obj = fresh
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("write status of work item %s: %w", w.key.Name, err)
		}
	}
	return fmt.Errorf("write status of work item %s: %w", w.key.Name, err)
}

// owned checks that the item is still this agent's, running.
func (w *work) owned(obj client.Object) error {
	st := statusOf(obj)
	switch {
	case obj.GetUID() != w.obj.GetUID():
		return errItemGone
	case obj.GetDeletionTimestamp() != nil:
		return errItemGone
	case st.Phase == v1alpha1.WorkCanceled:
		return errItemCanceled
	case st.Agent != w.a.cfg.InstanceID || st.Phase != v1alpha1.WorkInProgress:
		return fmt.Errorf("%w (it is now %s by %q)", errItemLost, st.Phase, st.Agent)
	}
	return nil
}

// warn records a problem that does not fail the item.
func (w *work) warn(msg string) {
	w.log.Warn(msg)
	w.mu.Lock()
	w.warnings = append(w.warnings, msg)
	w.mu.Unlock()
}

// setProgress names the counters the heartbeat reports.
func (w *work) setProgress(fn func() (done, total int64)) {
	w.mu.Lock()
	w.progress = fn
	w.mu.Unlock()
}

// fillProgress copies the counters and a rate into st.
func (w *work) fillProgress(st *v1alpha1.WorkStatus) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st.Warnings = append([]string(nil), w.warnings...)
	if w.progress == nil {
		return
	}
	done, total := w.progress()
	now := w.a.now()
	if dt := now.Sub(w.lastAt).Seconds(); dt >= 1 {
		w.rate = int64(float64(done-w.lastDone) / dt)
		w.lastDone, w.lastAt = done, now
	}
	st.Progress = v1alpha1.Progress{BytesDone: done, BytesTotal: max(total, done), BytesPerSecond: max(w.rate, 0)}
}

// heartbeat writes progress every interval until ctx ends. When the item
// stops being this agent's, it cancels the work with the reason.
func (w *work) heartbeat(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTicker(w.a.cfg.ProgressInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := w.update(ctx, w.fillProgress)
		switch {
		case errors.Is(err, errItemGone), errors.Is(err, errItemCanceled), errors.Is(err, errItemLost):
			cancel(err)
			return
		case err != nil && ctx.Err() == nil:
			w.log.Warn("progress not written; trying again at the next beat", "err", err)
		}
	}
}

// setCondition sets one condition on the item now.
func (w *work) setCondition(ctx context.Context, c metav1.Condition, fn func(st *v1alpha1.WorkStatus)) error {
	return w.update(ctx, func(st *v1alpha1.WorkStatus) {
		c.ObservedGeneration = w.obj.GetGeneration()
		meta.SetStatusCondition(&st.Conditions, c)
		if fn != nil {
			fn(st)
		}
	})
}

// outcome is how an item ended.
type outcome struct {
	phase      v1alpha1.WorkPhase
	message    string
	snapshotID string
	stats      v1alpha1.WorkStats
}

// finish writes the item's final status. A canceled, deleted or lost item
// is left as it is; an item stopped by the agent's shutdown is handed back
// to Pending so that the next agent start resumes it at once.
func (w *work) finish(ctx context.Context, o outcome, cause error) {
	if errors.Is(cause, errItemGone) || errors.Is(cause, errItemCanceled) || errors.Is(cause, errItemLost) {
		w.log.Info("work item stopped", "reason", cause)
		return
	}
	fn := func(st *v1alpha1.WorkStatus) {
		w.fillProgress(st)
		st.Phase, st.Message, st.SnapshotID, st.Stats = o.phase, o.message, o.snapshotID, o.stats
		now := metav1.NewTime(w.a.now())
		st.CompletionTime = &now
	}
	if errors.Is(cause, errShutdown) {
		fn = func(st *v1alpha1.WorkStatus) {
			st.Phase, st.Agent, st.Message = v1alpha1.WorkPending, "", "the agent stopped while working on it; it starts again when an agent of the node is back"
		}
	}
	if err := w.update(ctx, fn); err != nil {
		w.log.Error("final status not written", "phase", o.phase, "err", err)
		return
	}
	w.a.event(w.obj, o)
}
