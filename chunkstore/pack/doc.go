// Package pack builds and parses pack files, the objects that hold blobs.
//
// A pack is the concatenation of sealed blobs, then the sealed header, then
// the header's sealed length as a little-endian uint32:
//
//	blob_1 || … || blob_n || Seal(header) || uint32(len(Seal(header)))
//
// The header lists each blob in order (type, ID, stored length, raw length);
// offsets are implicit, the sum of the lengths before. Parsing checks that the
// entries exactly tile the bytes before the header, so a truncated or spliced
// pack is rejected before any blob is trusted. A pack's ID is the plain
// BLAKE3-256 of all its bytes, so check can verify a pack against its name.
package pack
