package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/locations"
)

// Deps are the agent's collaborators.
type Deps struct {
	// Client writes statuses, PVs and PVC bindings; its cache holds only
	// this node's work items (see CacheOptions).
	Client client.Client
	// Reader reads what is not cached (locations, Secrets, PVCs, PVs,
	// storage classes, pods) straight from the API server.
	Reader   client.Reader
	Recorder events.EventRecorder
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Agent executes this node's work items.
type Agent struct {
	cfg      Config
	client   client.Client
	reader   client.Reader
	recorder events.EventRecorder
	now      func() time.Time
	runner   *runner
	drivers  *drivers
	repos    *locations.Opener
	journal  *journal
	metrics  *metrics
	names    names
	// swept is closed once the janitor's first sweep is done; no item
	// starts before.
	swept chan struct{}
}

// New returns an agent; SetupWithManager starts it.
func New(cfg Config, d Deps) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	j, err := newJournal(cfg.journalDir())
	if err != nil {
		return nil, err
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	drivers := newDrivers(cfg)
	run := newRunner(cfg.MaxConcurrent)
	run.afterStop = drivers.closeAll
	return &Agent{cfg: cfg, client: d.Client, reader: d.Reader, recorder: d.Recorder, now: now,
		runner: run, drivers: drivers, journal: j, metrics: newMetrics(),
		repos: &locations.Opener{Client: d.Reader, KDF: cfg.KDF, Host: "cairn-agent/" + cfg.NodeName, Budget: cfg.jobBudget(),
			Warn: func(err error) { cfg.Logger.Warn("repository", "err", err) }}, swept: make(chan struct{})}, nil
}

// InstanceID is what the agent writes into status.agent.
func (a *Agent) InstanceID() string { return a.cfg.InstanceID }

// CacheOptions restricts a manager's cache to node's work items in
// namespace, so an agent never lists or watches another node's.
func CacheOptions(node, namespace string) cache.Options {
	sel := fields.OneTermEqualSelector("spec.nodeName", node)
	return cache.Options{
		DefaultNamespaces: map[string]cache.Config{namespace: {}},
		ByObject: map[client.Object]cache.ByObject{
			&v1alpha1.VolumeBackup{}:  {Field: sel},
			&v1alpha1.VolumeRestore{}: {Field: sel},
		},
	}
}

// SetupWithManager registers the item reconcilers, the runner and the
// janitor with mgr.
func (a *Agent) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.Add(a.runner); err != nil {
		return err
	}
	if err := mgr.Add(&janitor{a: a}); err != nil {
		return err
	}
	opts := controller.Options{MaxConcurrentReconciles: 2}
	err := ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.VolumeBackup{}).WithOptions(opts).
		Named("agent-volumebackup").Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		return a.reconcile(ctx, req, kindBackup)
	}))
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.VolumeRestore{}).WithOptions(opts).
		Named("agent-volumerestore").Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		return a.reconcile(ctx, req, kindRestore)
	}))
}

// reconcile claims and starts an item of this node, or stops it when it
// was canceled or deleted.
func (a *Agent) reconcile(ctx context.Context, req reconcile.Request, kind string) (reconcile.Result, error) {
	select {
	case <-a.swept:
	case <-ctx.Done():
		return reconcile.Result{}, ctx.Err()
	}
	obj := newItem(kind)
	if err := a.client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			a.cancelByName(kind, req.NamespacedName.String())
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	key := itemKey{kind: kind, uid: obj.GetUID()}
	st := statusOf(obj)
	switch {
	case obj.GetDeletionTimestamp() != nil:
		a.runner.cancel(key, errItemGone)
		return reconcile.Result{}, nil
	case st.Phase == v1alpha1.WorkCanceled:
		a.runner.cancel(key, errItemCanceled)
		return reconcile.Result{}, nil
	case st.Phase.Done(), a.runner.isRunning(key):
		return reconcile.Result{}, nil
	}
	return a.claim(ctx, obj, key)
}

// claim takes the item for this agent and starts it. An item another live
// agent holds is looked at again when its heartbeat would go stale.
func (a *Agent) claim(ctx context.Context, obj client.Object, key itemKey) (reconcile.Result, error) {
	st := statusOf(obj)
	takeover := ""
	if st.Phase == v1alpha1.WorkInProgress && st.Agent != "" {
		if wait := a.staleIn(st); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
		takeover = st.Agent
	}
	if !a.runner.reserve() {
		return a.queue(ctx, obj)
	}
	now := metav1.NewTime(a.now())
	st.Phase, st.Agent, st.HeartbeatTime, st.Message = v1alpha1.WorkInProgress, a.cfg.InstanceID, &now, ""
	if st.StartTime == nil {
		st.StartTime = &now
	}
	if err := a.client.Status().Update(ctx, obj); err != nil {
		a.runner.release()
		if apierrors.IsConflict(err) {
			return reconcile.Result{RequeueAfter: 200 * time.Millisecond}, nil
		}
		return reconcile.Result{}, fmt.Errorf("claim work item %s: %w", obj.GetName(), err)
	}
	w := a.newWork(obj)
	if takeover != "" {
		w.resume = true
		w.warn(fmt.Sprintf("taken over from agent %s, whose heartbeat stopped", takeover))
	}
	a.byName(key, obj)
	a.runner.start(key, func(ctx context.Context) { a.run(ctx, w) })
	return reconcile.Result{}, nil
}

// staleIn is how long until the item's owner counts as gone.
func (a *Agent) staleIn(st *v1alpha1.WorkStatus) time.Duration {
	if st.Agent == a.cfg.InstanceID || st.HeartbeatTime == nil {
		return 0
	}
	return st.HeartbeatTime.Add(a.cfg.TakeoverAfter).Sub(a.now())
}

// queue leaves an item Pending while every slot is busy.
func (a *Agent) queue(ctx context.Context, obj client.Object) (reconcile.Result, error) {
	st := statusOf(obj)
	msg := fmt.Sprintf("waiting: %d items already run on node %s", a.cfg.MaxConcurrent, a.cfg.NodeName)
	if st.Phase != v1alpha1.WorkPending || st.Message != msg {
		st.Phase, st.Message = v1alpha1.WorkPending, msg
		if err := a.client.Status().Update(ctx, obj); err != nil && !apierrors.IsConflict(err) {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{RequeueAfter: 2 * time.Second}, nil
}

// run executes one claimed item to its end.
func (a *Agent) run(ctx context.Context, w *work) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	a.metrics.active.WithLabelValues(w.kind).Inc()
	defer a.metrics.active.WithLabelValues(w.kind).Dec()
	beat, stopBeat := context.WithCancel(ctx)
	var beats sync.WaitGroup
	beats.Go(func() { w.heartbeat(beat, cancel) })
	var o outcome
	if w.kind == kindBackup {
		o = a.runBackup(ctx, w)
	} else {
		o = a.runRestore(ctx, w)
	}
	stopBeat()
	beats.Wait()
	cause := context.Cause(ctx)
	if ctx.Err() == nil {
		cause = nil
	}
	final, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	w.finish(final, o, cause)
	a.metrics.items.WithLabelValues(w.kind, resultOf(o, cause)).Inc()
}

func resultOf(o outcome, cause error) string {
	switch {
	case errors.Is(cause, errShutdown):
		return "requeued"
	case cause != nil:
		return "canceled"
	}
	return string(o.phase)
}
