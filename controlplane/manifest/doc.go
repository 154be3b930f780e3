// Package manifest stores the document that describes one cluster backup in
// the repository, so that the repository alone says which backups exist: a
// second cluster sharing the location imports them (backupsync), and the
// CLI lists them without a cluster.
//
// A manifest is a sealed JSON file of kind repo.KindManifest
// (manifests/<id> in FORMAT.md §1); its ID is the BLAKE3 of its stored
// bytes, so a manifest never changes once written. The backup controller
// writes one when a backup reaches its final phase and records the ID in
// the Backup's status.manifestID. The JSON is the Manifest type's encoding:
//
//	{"version": 1, "backupName": "...", "backupNamespace": "...",
//	 "spec": <BackupSpec>, "status": <BackupStatus>, "clusterID": "...",
//	 "created": "<RFC 3339>", "log": ["...", ...]}
//
// Invariants:
//   - Readers refuse a version they do not know (newer writers), rather
//     than import a backup they might misread.
//   - Deleting a backup deletes its manifests (DeleteBackup: all of them)
//     before the Backup object disappears: the sync controller only imports
//     a Backup whose manifest still exists after it saw the object absent,
//     so a deleted backup is never resurrected.
//   - Several manifests may name the same backup (a controller that crashed
//     after saving and saved again); readers take the newest by Created.
package manifest
