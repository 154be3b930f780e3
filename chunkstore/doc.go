// Package chunkstore is cairn's repository: a content-addressed, deduplicated,
// compressed and encrypted store of file trees and block images on a blob
// backend. The byte format is specified in FORMAT.md in this directory. The
// sub-packages split the work: core (IDs), blob (backends), crypto (keys and
// sealing), chunker, compress, pack, index, repo (the repository), snapshot
// (trees), archiver (backup), restorer, checker, pruner and repairer; faults
// is the fault campaign that runs the cairn binary against damaged and
// interrupted repositories (RELIABILITY.md holds its figures). With a
// memory budget (repo.Options.MaxMemory, `--max-memory`) the index is read
// from a local on-disk cache (FORMAT.md §12) and check, prune and restore
// plan in bounded memory; bench/SCALE.md measures it. Nothing here
// imports Kubernetes.
package chunkstore
