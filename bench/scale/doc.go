// Package scale simulates a large repository to measure how cairn's costs
// grow with it (bench/SCALE.md, `make bench-scale`).
//
// Generate writes a real repository whose index holds N data-chunk entries
// without storing their data: each pack is a sparse file, a hole where its
// blobs would be followed by a real sealed header, so the store lists it,
// check reads and verifies its header, and prune can delete it, but no
// chunk can be read back. Index files, trees, content lists and snapshots
// are real. Snapshots reference disjoint shares of the chunks, and one
// more references them all, so forgetting half of them frees half the
// packs and the big one measures a restore plan of N chunks.
//
// Run drives the measurements: each step is a separate process (the cairn
// binary, or this package's own steps behind cmd/cairn-scale) whose peak
// RSS is read from its resource usage.
package scale
