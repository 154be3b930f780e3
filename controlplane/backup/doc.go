// Package backup is the Backup controller. It turns a Backup into a
// repository snapshot of API objects plus one VolumeBackup work item per
// selected volume, runs the hooks around the volume snapshots, follows the
// work items to the end, and writes the backup's manifest into the
// repository.
//
// Phases, one short method each:
//
//	""/New            validate the spec and the location; set times
//	InProgress        collect and store API objects; pick volumes and nodes;
//	                  pre-hooks → create work items → wait for SnapshotTaken
//	                  → post-hooks (the freeze window; see api/v1alpha1 doc)
//	WaitingForVolumes aggregate progress from the work items; when all are
//	                  done, write the manifest and end in Completed,
//	                  PartiallyFailed or Failed
//
// API objects are collected and stored before the pre-hooks run, so the
// application is frozen only while its volumes are snapshotted.
//
// A Backup annotated cairn.dev/cancel-requested is stopped at its next
// reconcile, whatever its phase: unfinished work items become Canceled
// and the backup ends Failed, reason Canceled (see the API doc).
//
// Deleting a Backup (by a user, its TTL or a Schedule's retention) forgets
// its snapshots and manifest in the repository through a finalizer; prune
// frees the data later.
package backup
