// Package backupsync is the sync controller: it imports the Backups it
// finds in a location's repository, so that a second cluster sharing the
// location can list and restore backups made elsewhere, and a rebuilt
// cluster gets its own backups back.
//
// Every Config.Interval (default 1m), for each Available location, it lists
// the repository's manifests (package manifest) and, for each backup name
// with no Backup in the location's namespace, creates one: spec from the
// manifest with spec.locationName set to this location, label
// cairn.dev/location and annotation cairn.dev/synced-from naming the
// location, then status (phase Completed unless the manifest records
// another final phase, with status.manifestID) through the status
// subresource. Manifests are content-addressed and never change, so each is
// read once per process and cached.
//
// Deleted backups do not come back. Deleting a Backup forgets its snapshots
// and deletes its manifests in the repository (manifest.DeleteBackup)
// before the object disappears; the backup controller's finalizer does
// both before it lets go of the object. Before it
// creates a Backup, this controller confirms through the API server, not
// its cache, that the object is absent, and only then that the manifest
// still exists: a Backup whose deletion finished has no manifest left, so
// it is never resurrected. A Backup whose object was removed without the
// finalizer (the finalizer stripped by hand) still has its data, and is
// imported again, which is the truthful view of the repository.
//
// Other rules:
//   - Manifests whose expiration has passed are not imported: the cluster
//     that made them deletes them.
//   - A Backup is never executed twice: the backup controller must leave
//     Backups carrying cairn.dev/synced-from alone (between the create and
//     the status write there is a moment with an empty phase). An import
//     interrupted in that moment is finished by the next sync.
//   - When a manifest names a Backup that exists here as a different
//     backup (two clusters with a Schedule of the same name sharing a
//     location), it is not imported and a Warning event says so.
//   - Unreadable manifests (damaged, or from a newer cairn) are reported
//     once per process with a Warning event and skipped.
package backupsync
