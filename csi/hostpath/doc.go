// Package hostpath is cairn's reference CSI driver: a small but complete
// plugin that keeps volumes under one directory of one node. cairn's tests
// and demo run against it, and it is written to be read by storage vendors
// as a worked example of what cairn needs from a driver. The binary is
// cmd/cairn-csi-hostpath; hostpathtest starts it inside tests.
//
// # Services
//
// One gRPC socket serves all four CSI services, one file each:
//
//   - identity.go: plugin info, capabilities (CONTROLLER_SERVICE,
//     VOLUME_ACCESSIBILITY_CONSTRAINTS, SNAPSHOT_METADATA_SERVICE), Probe.
//   - controller.go, controller_snapshots.go: volumes (create, from a
//     snapshot or a clone, delete, list, validate, capacity) and
//     snapshots (create, delete, list, get).
//   - node.go, publish.go: stage, publish, unpublish, unstage in
//     filesystem and raw-block modes, read-only and read-write; stats.
//   - snapshotmetadata.go: GetMetadataAllocated and GetMetadataDelta.
//
// # Storage
//
// A filesystem volume is a directory, a block volume a sparse image file
// (layout.go lists every path). A snapshot is a full, independent copy: a
// reflink where the file system offers one (FICLONE), otherwise a copy of
// only the data extents (SEEK_DATA/SEEK_HOLE), so holes stay holes; a
// directory tree is copied with owners, modes, times, extended attributes,
// symlinks, hard links, device nodes and sparse files. A volume created
// from a snapshot with reader-only access modes only is a thin clone: it
// uses the snapshot's data in place, because nothing can write to it.
// Deleting such a snapshot hides it at once and frees its data when its
// last thin clone goes.
//
// Capacity is exact for block volumes (the image size) and nominal for
// filesystem volumes (no quota). Config.Capacity caps the sum of the
// capacities of the volumes that own their data.
//
// # Block maps: the driver's changed-block tracking
//
// An array answers SnapshotMetadata from the change tracking it keeps
// anyway. A file has none, so this driver makes the equivalent at the one
// moment it sees all of a snapshot's bytes: when the snapshot is cut it
// hashes every fixed-size block (Config.BlockSize, default 64 KiB) with
// BLAKE3, marks all-zero blocks unallocated, and writes that block map
// durably next to the snapshot (blockmap.go gives the format).
// GetMetadataAllocated then reports the non-zero blocks and
// GetMetadataDelta the blocks whose hashes differ between two snapshots of
// one volume, merged into VARIABLE_LENGTH byte ranges, without reading an
// image at request time. Snapshots of filesystem volumes have no block
// map (InvalidArgument), nor do block snapshots cut while the service was
// disabled (FailedPrecondition: read them in full).
//
// # Node service
//
// Filesystem volumes are bind-mounted from the volume directory on the
// staging path and from there on the target; read-only publications are
// remounted read-only, which the kernel enforces. A raw block volume is
// exposed through a loop device attached per publication (read-only when
// the publication is, which is what refuses writes: a read-only bind of a
// device node does not), with the device node bind-mounted on the target
// file, as kubelet expects. When loop devices are unavailable
// (Config.Loop), the image file itself is bind-mounted instead.
//
// # Invariants
//
//   - Metadata lives in one state file (state.go), rewritten on every
//     change with temp file, fsync, rename and a directory fsync; an RPC
//     succeeds only after its change is durable. A driver started over the
//     same root sees every volume and snapshot and can unpublish and
//     unstage what an earlier process set up. One driver per root (flock).
//   - Data is built under tmp/ and renamed into place before its record is
//     written; node changes are recorded before they are made. So after a
//     crash New removes what no record names (temporary files, orphaned
//     data, loop devices backed by images under the root), and every
//     record is safe to undo.
//   - Loop devices never outlive their publication: they are detached on
//     unpublish, on a failed publish, by DeleteVolume for any device still
//     backed by the image, and at start-up for unrecorded ones. A device is
//     detached only while it is still backed by the image its record
//     names, so a stale record can never release another's device.
//   - Every RPC is idempotent as the spec requires. A second call for an
//     object (name, path) while the first runs gets Aborted; a volume or
//     snapshot being copied cannot be deleted meanwhile (Aborted), and a
//     volume still staged or published cannot be deleted
//     (FailedPrecondition).
//   - gRPC codes are chosen in the RPC handlers; the helpers below them
//     return wrapped errors, which reach the caller as Internal.
//   - Request secrets are never logged or echoed: every request is logged
//     with the fields the spec marks csi_secret replaced (logging.go).
//
// # Test controls
//
// Config.Disabled switches a capability off (it is then reported
// unsupported and its RPCs return Unimplemented; the block access type and
// volumes from snapshots, which are arguments of CreateVolume rather than
// RPCs of their own, get InvalidArgument as the spec prescribes).
// Config.Faults, Config.Hangs and, at run time, SetFault, InjectFault,
// SetHang and ClearFaults make named RPCs fail or block (faults.go);
// Calls counts them. Config.Secrets makes the Controller RPCs demand
// secrets. Inventory and ReadInventory list what a root holds, for
// asserting that a consumer cleaned up after itself.
package hostpath
