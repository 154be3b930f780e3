// Package snapshot defines what a snapshot is: a record that names a tree of
// nodes (files, directories, links, devices) stored as tree blobs, or a
// block image stored as one file node whose extents skip zero ranges.
//
// Encoding rules that keep trees deduplicating across snapshots:
//   - nodes are sorted by name and encoded as compact JSON;
//   - atime is not stored (reading a file would change its tree);
//   - a directory's listing is split into parts of at most MaxPartSize
//     encoded bytes, so no tree blob nears the blob size limit however large
//     the directory;
//   - a file's chunk list is inline up to InlineChunks references, and
//     otherwise stored in content-list blobs of up to ListChunks references,
//     so a node stays small even for a 100 TB block image.
//
// Parsers here read repository bytes and are fuzzed.
package snapshot
