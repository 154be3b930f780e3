// Package repo is the repository: it ties a blob.Store to the master key, the
// config, the index and the writer sessions. It offers four services:
//
//   - Init, Open and key management (keys.go);
//   - sealed "files" outside packs: config, snapshots, index files, sessions
//     and deletion markers (files.go);
//   - blob loading with verification (blobs.go), tree blobs through a cache
//     of whole tree packs (treecache.go);
//   - the Saver, which dedups, compresses, seals and packs blobs and uploads
//     packs concurrently while the caller keeps producing (saver.go);
//   - with Options.IndexCache, the local index cache (indexcache.go,
//     FORMAT.md §12): the index is an on-disk segment built from the index
//     files and a small in-memory delta, so opening costs a listing of the
//     index files, not a load of their entries, and writers confirm a
//     cached pack in the store on first use instead of listing the store
//     (lazypacks.go).
//
// Invariants:
//   - A snapshot is only written after every blob it references is in an
//     uploaded pack listed by an index file in the store.
//   - No global lock. Writers announce themselves with heartbeated session
//     files; prune deletes only what no session could still be using, by the
//     protocol in FORMAT.md.
//   - Every object read is authenticated before use, and every blob is
//     checked against its ID.
//   - No backup references data that is not there: a writer verifies the
//     index's packs against the store before its first blob (VerifyPacks,
//     in AdoptUnindexed) and the packs of index files it loads later, and
//     hides lost packs from dedup, so their data is stored again. With the
//     index cache it confirms each pack on first use instead, and adopts
//     a crashed writer's packs only on a sign of the crash.
//   - Damage costs only what it holds: a damaged key file is skipped, a
//     damaged index file is skipped and its packs indexed from their
//     headers; each is reported once through Options.Warn.
package repo
