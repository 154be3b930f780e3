// Package hooks runs the application hooks of backups and restores: exec
// hooks (a command in a container, through the API server's pods/exec) and
// HTTP hooks (a JSON POST to an endpoint of the application), and the
// ordering that makes a backup application-consistent with the shortest
// freeze.
//
// # Where hooks come from
//
// ForPods resolves each pod's hooks from two sources:
//
//   - The Backup's spec.hooks: each BackupResourceHook selects pods by
//     namespace globs (includedNamespaces, excludedNamespaces; exclusion
//     wins, no includes means every namespace) and a label selector, and
//     lists pre and post hooks.
//   - The pod's own annotations, described below.
//
// For each phase, a pod that declares hooks by annotation runs those and no
// spec hooks: the application's owner knows best how to quiesce it. A pod
// without hook annotations for a phase runs the hooks of every spec hook
// that selects it, in spec order. Defaults are applied here: the first
// container, a 30 s timeout, onError Fail for pre-hooks and Continue for
// post-hooks, status 200 and body {} for HTTP hooks.
//
// Everything is checked before anything runs, so a typo fails the backup
// before any application is frozen: malformed annotations, unknown
// annotation names under the hook prefix, containers the pod does not
// have, spec hooks that are neither exec nor http. Each error names the pod
// and the annotation or spec hook. Commands and bodies are never quoted in
// errors or messages, since they may carry credentials.
//
// # Annotations
//
// Every key is "<phase>.hook.backup.cairn.dev/<name>", with phase "pre" or
// "post". A phase declares at most one exec hook and one HTTP hook; when it
// declares both, the exec hook runs first.
//
//	command             exec hook: a JSON array of strings, ["fsfreeze", "-f", "/data"],
//	                    or else a shell command line, run as /bin/sh -c LINE
//	container           exec hook's container; default the pod's first
//	http-port           HTTP hook: the container port, 1-65535 (required for an HTTP hook)
//	http-path           HTTP hook: absolute path, default /
//	http-scheme         HTTP hook: http (default) or https
//	http-body           HTTP hook: JSON body sent as application/json, default {}
//	http-expect-status  HTTP hook: the status that means success, default 200
//	timeout             both hooks of the phase: a Go duration (30s, 2m); default 30s
//	on-error            both hooks of the phase: Continue or Fail;
//	                    default Fail for pre, Continue for post
//
// An HTTP hook of an annotation goes to <scheme>://<pod IP>:<port><path>; a
// spec HTTP hook may instead give a full url. Example:
//
//	pre.hook.backup.cairn.dev/command: '["/bin/sh", "-c", "mysql -e \"FLUSH TABLES WITH READ LOCK\""]'
//	pre.hook.backup.cairn.dev/container: db
//	pre.hook.backup.cairn.dev/timeout: 1m
//	post.hook.backup.cairn.dev/http-port: "8080"
//	post.hook.backup.cairn.dev/http-path: /resume
//
// # The freeze protocol
//
// Application consistency needs each application quiesced while its
// volumes' snapshots are cut, and only then: the upload that follows can
// take hours and reads the snapshot, not the live volume. Runner.FreezeWindow
// implements the controller's side:
//
//  1. Pre-hooks run on every selected pod as one group (RunPre): pods
//     concurrently, at most Runner.Parallel at once, each pod's hooks one
//     after another in declared order, each under its own timeout. Once a
//     hook with onError=Fail fails, no further pre-hook starts anywhere;
//     hooks already running finish. A failing hook with onError=Continue is
//     reported and the backup goes on, crash-consistent for that pod.
//  2. Only when every pre-hook has returned, and none with onError=Fail
//     failed, the waitSnapshots callback is called. The backup controller
//     creates the VolumeBackups there and waits until every one has the
//     condition SnapshotTaken=True or has failed. The node agent sets
//     SnapshotTaken as soon as the snapshot is cut, before it reads any
//     data. The callback's context ends after Runner.SnapshotTimeout
//     (default 10 minutes).
//  3. Post-hooks run on all pods at once (RunPost) as soon as the callback
//     returns, or its timeout passes, or it panics, or it was not called
//     because a pre-hook failed. They run on every pod except those whose
//     pre-hooks were all skipped (Outcome.PodsToThaw): a pod whose own
//     pre-hook failed is thawed too, since it may be half frozen, and so is
//     a pod that has post-hooks only.
//     Every post-hook runs, whatever failed before it. Post-hooks run under
//     a context that the caller's cancellation does not reach (each is
//     still bounded by its timeout): a controller shutting down still
//     thaws.
//  4. The agents then move the data with the applications running.
//
// The freeze window is therefore the time to run the pre-hooks plus the
// time to cut the snapshots. FreezeResult.Err is nil only when every
// onError=Fail hook succeeded and the snapshots were all taken; otherwise
// the backup fails, with one message per hook naming the phase, hook
// index, pod, container or URL and the reason, for example
//
//	pre-hook 0 on pod app/db-0 container db timed out after 30s (declared by annotations, onError=Fail)
//
// Hook output is kept only as a short head (512 bytes) and only stderr, or
// an HTTP answer, reaches a message, clipped to 200 bytes.
//
// # Restore hooks
//
// Runner.RunRestoreExec runs the postRestore exec hooks of a Restore on the
// restored pods its hooks select: each hook waits for its pod to be Ready
// (polled through a PodReader, bounded by waitTimeout, default 5m) and then
// runs under execTimeout (default 30s); onError defaults to Continue.
// Injected init containers are the restore planner's job, not this
// package's.
//
// # Transports
//
// PodExecutor is the real exec transport: pods/exec over WebSocket with a
// fallback to SPDY, through client-go. HTTP hooks use Runner.HTTP, any
// *http.Client (for example one that trusts the application's CA). Package
// hookstest has an in-memory Executor for tests.
package hooks
