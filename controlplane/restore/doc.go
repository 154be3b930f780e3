// Package restore is the Restore controller. It reads a backup's API
// objects from the repository, plans them (filters, mappings, stripping,
// dependency order; see restoreplan), applies them in three stages, and
// restores volume data through VolumeRestore work items in between, so no
// workload ever starts on an empty volume.
//
// Phases, one short method each:
//
//	""/New            validate: the backup exists and is finished
//	InProgress        apply the prelude (CRDs … ConfigMaps) and the volume
//	                  stage: PVCs, plus one VolumeRestore per PVC whose data
//	                  is in the backup (its backed-up PV is not restored: the
//	                  agent provisions a new volume and binds it)
//	WaitingForVolumes when every VolumeRestore has ended, apply the
//	                  workloads, fix owner references, run post-restore
//	                  hooks, and end Completed, PartiallyFailed or Failed
//
// Restores run concurrently with each other and with backups.
package restore
