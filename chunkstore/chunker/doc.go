// Package chunker cuts content into variable-size chunks with Rabin
// fingerprints under a per-repository polynomial, and names each chunk by its
// keyed BLAKE3-256 hash.
//
// The boundaries are exactly those of github.com/restic/chunker with the same
// polynomial and limits (a test compares them on many inputs), found by an
// in-memory search that scans four blocks at once and copies nothing: about
// 1.5 GB/s per core where the reference runs at about 0.6 GB/s (see rabin.go
// and BenchmarkSplit / BenchmarkSplitReference).
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
