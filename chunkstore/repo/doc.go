// Package repo is the repository: it ties a blob.Store to the master key, the
// config, the index and the writer sessions. It offers four services:
//
//   - Init, Open and key management (keys.go);
//   - sealed "files" outside packs: config, snapshots, index files, sessions
//     and deletion markers (files.go);
//   - blob loading with verification (blobs.go), tree blobs through a cache
//     of whole tree packs (treecache.go);
//   - the Saver, which dedups, compresses, seals and packs blobs and uploads
//     packs concurrently while the caller keeps producing (saver.go).
//
// Invariants:
//   - A snapshot is only written after every blob it references is in an
//     uploaded pack listed by an index file in the store.
//   - No global lock. Writers announce themselves with heartbeated session
//     files; prune deletes only what no session could still be using, by the
//     protocol in FORMAT.md.
//   - Every object read is authenticated before use, and every blob is
//     checked against its ID.
package repo
