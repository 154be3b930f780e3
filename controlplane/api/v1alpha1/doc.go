// Package v1alpha1 is cairn's API, group cairn.dev, version v1alpha1.
//
// Users create BackupLocations, Backups, Restores and Schedules. The
// controller turns each Backup into one VolumeBackup per selected volume and
// each Restore into one VolumeRestore per restored volume: the work items
// the node agents execute. Every kind is namespaced (in the namespace cairn
// runs in) and has a status subresource with conditions.
//
// # The freeze protocol (hooks and snapshots)
//
// Application consistency needs the application frozen while its volumes
// are snapshotted, and only then: the upload can take hours. The controller
// and the agents cooperate through the VolumeBackup status:
//
//  1. The controller runs every pre-hook on every selected pod, as a group.
//     A failing pre-hook with onError=Fail fails the backup and the
//     post-hooks of pods already frozen still run.
//  2. It creates the VolumeBackups (phase Pending, spec.nodeName set).
//  3. Each agent cuts the volume's snapshot first and sets the condition
//     SnapshotTaken=True (or Failed) before it reads any data.
//  4. When every VolumeBackup has SnapshotTaken=True or has failed, or the
//     snapshot timeout passes, the controller runs all post-hooks at once.
//     The freeze window is therefore the time to cut the snapshots.
//  5. Agents upload, reporting status.progress, and end in Completed (with
//     status.snapshotID) or Failed (with status.message).
//
// # Canceling a backup
//
// A running Backup is canceled by setting the annotation
// cairn.dev/cancel-requested (`cairn backup cancel` writes the time of
// the request). An annotation rather than a spec field keeps the request
// out of Schedule templates and backup manifests, and works on any phase.
// At its next reconcile the controller marks every unfinished VolumeBackup
// Canceled (agents treat Canceled, like the item's deletion, as "stop and
// clean up") and ends the Backup Failed, with the condition Ready=False,
// reason Canceled, "canceled by user". A backup in its freeze window sees
// the request once the window closes (at most the snapshot timeout), so
// post-hooks always run. On a finished Backup the annotation does nothing.
//
// Agents watch only their own node's work items by the field selector
// spec.nodeName=<node> (a CRD selectable field) or the label cairn.dev/node.
package v1alpha1
