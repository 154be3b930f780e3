// Package repairer mends a damaged repository, after restic's "repair
// index" and "repair snapshots".
//
// It works in three steps, and writes only when asked to (Options.Apply):
//
//  1. Index: every pack in the store is read back — its header, or with
//     ReadData every byte — and a new index is built from what the packs
//     really hold. Packs the old index lists but the store lacks drop out,
//     and so do blobs that fail verification, so the next backup that meets
//     their data stores it again instead of deduplicating against it. A
//     pack whose header is damaged keeps the old index's entries for it.
//     Written, the new index supersedes every index file there was,
//     damaged ones included, which are then deleted.
//  2. Snapshots: every snapshot is walked against the new index, and every
//     file and directory that needs a lost blob is listed.
//  3. Rewrite: each damaged snapshot is written again without its lost
//     files (or, with Salvage, with the readable parts of them, the rest
//     holes), tagged repaired=<original ID>. The original is kept until it
//     is forgotten. Trees are written before the snapshots that name them,
//     after the index that covers them, as every writer does.
//
// Repair runs as a writer, with a session, so a concurrent prune keeps to
// the usual protocol. A damaged snapshot record cannot be rewritten (it
// says nothing readable) and is only reported.
package repairer
