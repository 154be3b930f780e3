// Package chunker cuts content into variable-size chunks with Rabin
// fingerprints (github.com/restic/chunker) under a per-repository polynomial,
// and names each chunk by its keyed BLAKE3-256 hash.
//
// Parallelism comes from the caller: a large file or block image is cut into
// segments (see SegmentSize) and each segment is chunked independently by a
// different worker, so chunk boundaries restart at every segment start. The
// boundaries depend only on the polynomial, the size limits, the segment
// size and the bytes, which keeps them reproducible across runs and hosts;
// golden tests pin them.
//
// A Splitter is not safe for concurrent use: each worker owns one.
package chunker
