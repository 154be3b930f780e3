// Package compress decides, blob by blob, whether to compress, and does it
// with zstd (RFC 8878, github.com/klauspost/compress/zstd).
//
// A compressed blob is one zstd frame: no dictionary, no checksum (sealed
// blobs are authenticated and blob IDs hash the raw bytes, so a checksum
// would only add 4 bytes), a window of at most 8 MiB (cairn writes 2 MiB),
// and, for 256 bytes or more, the content size in the header. Whether a
// blob is compressed, and its raw length, are recorded outside the frame by
// the pack and index layers; this package stores neither.
//
// # Deciding
//
// Much of a volume is already compressed (images, archives, databases with
// page compression, encrypted data), and compressing it burns CPU for
// nothing. Compress therefore probes first: for blobs of 32 KiB or more it
// copies eight 1 KiB pieces, spread from the first byte to the last, and
// compresses those 8 KiB with the fastest zstd level. If that saves less
// than 1/64 the blob is stored raw without compressing it; on random data the
// probe costs about 4 µs per blob, well over 100 GB/s for 1 MiB blobs, so it
// is negligible next to chunking at ~0.55 GB/s. Otherwise the whole blob is
// compressed and kept only if that saves at least 1/32.
//
// The probe uses entropy coding of literals even when it finds no matches,
// so base64, hex and machine code, which compress by Huffman coding alone,
// are not mistaken for random data. Its known blind spot: a compressible
// region narrower than the gap between pieces (a seventh of the blob) can be
// missed, and at most that region's saving is lost.
//
// # Invariants
//
//   - Compress never modifies src; when it declines, it returns src itself.
//   - Whatever Compress keeps is smaller than the input and decodes to it.
//   - Decompress never allocates more output than the raw length the caller
//     expects, and fails unless the frame decodes to exactly that many bytes.
//   - Both are safe for concurrent use. Encoders and decoders are shared,
//     one per core, so memory stays bounded: a Compressor holds about 5 MiB
//     (Fastest) to 9 MiB (Better) per core once warm.
package compress
