package hooks

import (
	"time"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Defaults. Each carries its reason.
const (
	// DefaultTimeout bounds one hook. A quiesce command (fsfreeze, FLUSH
	// TABLES WITH READ LOCK, a checkpoint) returns in seconds; 30 s leaves
	// room for a slow disk without keeping a stuck backup waiting long.
	DefaultTimeout = 30 * time.Second
	// DefaultWaitTimeout bounds the wait for a restored pod to be Ready:
	// image pulls and volume restores of a fresh cluster take minutes.
	DefaultWaitTimeout = 5 * time.Minute
	// DefaultExpectStatus is the status an HTTP hook must answer with.
	DefaultExpectStatus = 200
	// DefaultParallel bounds the pods whose hooks run at once. Each hook
	// holds one exec stream through the API server (or one HTTP request);
	// eight keeps a group of a few dozen pods to a few rounds without
	// flooding the API server.
	DefaultParallel = 8
	// DefaultSnapshotTimeout bounds the freeze window: the time the
	// applications stay quiesced while the volume snapshots are cut. A CSI
	// snapshot is cut in seconds to a few minutes; past that the
	// applications are thawed and the backup fails rather than keeping
	// them frozen.
	DefaultSnapshotTimeout = 10 * time.Minute
)

// ObjectRef names a pod.
type ObjectRef struct {
	Namespace string
	Name      string
}

// String is "namespace/name".
func (r ObjectRef) String() string { return r.Namespace + "/" + r.Name }

// Phase says when a hook runs.
type Phase string

const (
	// PhasePre hooks quiesce an application before its volumes are
	// snapshotted.
	PhasePre Phase = "pre"
	// PhasePost hooks resume it once the snapshots are cut.
	PhasePost Phase = "post"
	// PhaseRestore hooks run in a restored pod once it is Ready.
	PhaseRestore Phase = "restore"
)

// Hook is one resolved hook: defaults applied, the container chosen and
// checked against the pod. Exactly one of Exec and HTTP is set.
type Hook struct {
	// Source says where the hook was declared, for messages: "annotations"
	// or `spec hook "name"`.
	Source string
	// OnError says whether a failure fails the backup (Fail) or is only
	// reported (Continue).
	OnError v1alpha1.OnError
	// Timeout bounds the hook; it is always positive.
	Timeout time.Duration
	// WaitReady, when positive, makes the hook wait up to this long for
	// the pod to be Ready before it runs (restore hooks).
	WaitReady time.Duration
	Exec      *ExecAction
	HTTP      *HTTPAction
	// problem, when set, is why the hook could not be resolved; running it
	// fails with this reason (restore hooks, whose pods already exist).
	problem error
}

// ExecAction runs a command in a container of the pod.
type ExecAction struct {
	Container string
	Command   []string
}

// HTTPAction POSTs Body to the pod (or to URL) and expects ExpectStatus.
type HTTPAction struct {
	// URL, when set, is used as is; otherwise the target is
	// Scheme://<pod IP>:Port/Path.
	URL          string
	Scheme       string
	Port         int32
	Path         string
	Body         string
	ExpectStatus int
}

// PodHooks are the hooks of one pod, in the order they run.
type PodHooks struct {
	Pod ObjectRef
	// IP is the pod's IP, the target of HTTP hooks without a URL. It may be
	// empty for a pod that is not running; such hooks then fail.
	IP   string
	Pre  []Hook
	Post []Hook
}

// defaultOnError is Fail before the snapshot (a pod that could not be
// quiesced would be backed up inconsistent) and Continue after it (the
// snapshot is already consistent; a failing thaw is reported).
func defaultOnError(phase Phase) v1alpha1.OnError {
	if phase == PhasePre {
		return v1alpha1.OnErrorFail
	}
	return v1alpha1.OnErrorContinue
}
