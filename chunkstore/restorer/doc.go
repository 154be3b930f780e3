// Package restorer writes a snapshot, or one path of it, back to a
// directory (or a block image back to a file or device).
//
// It works in three passes:
//  1. plan: walk the snapshot's trees, create directories, links, devices and
//     empty files of their final size (so unwritten ranges stay holes), and
//     map every chunk of every file to its pack;
//  2. fetch: workers take one pack at a time, read the needed byte ranges
//     with ranged GETs (mapped instead of copied from a local directory),
//     decrypt, decompress and verify each blob against its ID, and write it
//     at every file offset that uses it;
//  3. finish: set xattrs, ownership, mode and times, files first and then
//     directories deepest first, so writing a child never bumps a parent's
//     restored mtime.
//
// The plan is bounded: once the chunks planned but not fetched would take
// more than Options.PlanMemory, they are fetched and planning goes on, so
// a snapshot of any size plans in bounded memory (a block device target
// is planned whole, as its holes are zeroed from the complete plan).
//
// A restore holds a session in the repository, so a concurrent prune does
// not delete packs it is reading.
//
// Damage in the repository (a lost pack, a corrupt blob, a lost listing)
// does not stop a restore: a blob that fails is tried from every copy the
// index knows, and what no copy provides is left as a hole and listed in
// Result.Damaged with its path and blob, while everything else is restored
// whole with its metadata. A store or target that fails still stops it.
// Options.Verify reads every restored file back against the snapshot.
package restorer
