// Package nodeagent is cairn's data mover: the agent that runs on every node
// (a DaemonSet pod) and executes the VolumeBackup and VolumeRestore work
// items the controller assigns to its node.
//
// # Picking up work
//
// The agent watches only its node's items (the spec.nodeName field
// selector). It claims an item with a status update guarded by the
// resourceVersion, setting status.agent to its instance ID, so two agents
// (even two started with the same node name) never run one item twice. At
// most Config.MaxConcurrent items run at once; the rest wait in Pending.
// The owner renews status.heartbeatTime with the progress; an InProgress
// item whose heartbeat is older than Config.TakeoverAfter lost its agent
// (killed, node rebooted) and is taken over by an agent of the node.
//
// # Data paths
//
// snapshot-move: cut the snapshot through the volume's CSI driver and set
// the SnapshotTaken condition at once (the controller then thaws the
// application), create a temporary volume from the snapshot, stage and
// publish it read-only into a private directory, and back it up with the
// chunkstore pipeline: as a file tree (filesystem volumes) or as a block
// image (block volumes). A block volume whose driver serves SnapshotMetadata
// is read sparsely: only the allocated ranges on a first backup, only the
// ranges changed since the parent's snapshot on an incremental (the
// parent's chunks are reused for the rest). The snapshot is kept on the
// driver as the base of the next incremental when that applies, and the
// base it replaces is deleted.
//
// file-system: read the live volume through the kubelet's pod-volume
// directory on the host, for volumes that cannot be snapshotted. Such a
// backup is not point-in-time.
//
// restore: create the volume through the driver (capacity and access type
// of the snapshot), publish it read-write, restore into it, unpublish, then
// create the PV pre-bound to the restored PVC, so the workload only ever
// mounts a complete volume.
//
// # Memory
//
// Each item gets a handle of its own on its location's repository
// (locations.Opener.OpenJob: the key is unlocked once per location). With
// Config.MaxMemory set, the handle reads the index through the on-disk
// cache in Config.IndexCacheDir within its share of the budget, and
// everything it loaded is released when the item ends, so the agent's
// memory does not grow with the repository or with its own uptime. An
// item taken over from a stopped agent lists the store once to reuse the
// packs the stopped run stored (archiver.Options.Resume), which a handle
// on the cache otherwise never does.
//
// # Leaving nothing behind
//
// Everything an item creates is named after the item's UID (so a retried
// or resumed create returns the same object) and recorded, before it is
// created, in a journal file under Config.StateDir. Cleanup runs when an
// item ends, fails or is canceled; at start-up the janitor replays the
// journal and removes what a killed process left: mounts, temporary
// volumes, and snapshots no item will resume from.
//
// Secrets (repository passwords, S3 keys, CSI secrets) are read from the API
// when needed and never written to a log line, an event, a status or an
// error.
package nodeagent
