// Package pruner removes data that no snapshot references, safely while
// backups and restores run, without a global lock.
//
// It works in two phases (FORMAT.md, "Prune", is the normative text):
//
//  1. Mark. Compute the blobs the snapshots reference. Packs with no
//     referenced blob, and unindexed packs older than the grace period, are
//     doomed; packs that are mostly unreferenced are repacked (their live
//     blobs copied into new packs) and then doomed. The doomed packs are
//     written to a deletion marker under pending/. Writers that load the
//     marker stop deduplicating against those packs.
//  2. Sweep. A marker becomes eligible once no live session started before
//     the marker's creation time plus a skew margin: every writer that might
//     have missed the marker has finished or died. Snapshots are read again;
//     a doomed pack holding a blob that some snapshot now references, with no
//     other copy, is rescued. The rest are dropped from the index (new index
//     files first, then one file that supersedes the old ones), deleted, and
//     the old index files and the marker removed.
//
// A crash at any point leaves either a marker to retry, extra index entries
// (harmless duplicates), or unreferenced packs for the next run: never a
// snapshot whose data is gone.
//
// Memory: the referenced blobs are an on-disk set (internal/idset) built
// by an external sort within the repository's memory budget, and the
// index is walked pack by pack in pack order (index.EachPackSorted),
// joined with the store's listing sorted on disk (repo.JoinPacks); with
// the index cache (--max-memory) the index itself is read from disk. What
// stays in memory grows with the packs doomed (32 bytes each, and the
// marker that names them) and the distinct directories, not with the
// blobs. The referenced set is kept under a name derived from the list of
// snapshots, so a prune killed after building it resumes from it, and the
// sweep reuses the mark's when no snapshot came or went in between.
//
// Damage does not stop a prune: a damaged snapshot record, or a lost tree
// below a readable one, protects nothing (nothing can read what it would
// name), and lost packs are neither repacked nor rescued against. A store
// that fails to deliver still stops it. After the sweep, partial writes
// and stale session files of dead processes older than the grace period
// (and never younger than repo.StaleAfter) are removed. Prune and repair
// refuse to run beside each other.
package pruner
