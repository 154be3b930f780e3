// Package archiver backs up file trees and block images into a repository.
//
// The pipeline, every stage concurrent and every queue bounded:
//
//	walker ──segments──▶ workers (read → zero-skip → chunk → hash → Saver) ──packs──▶ uploaders
//	   └──directories (post-order)──▶ finisher (waits for its files, saves tree blobs)
//
// The walker lists directories in name order, reuses the content of files
// whose metadata matches the parent snapshot, and cuts other files into
// segments (chunker.SegmentSize) so one large file keeps every worker busy.
// A file's node is complete when its last segment is; a directory is saved
// when all its files are. The snapshot is written last, after every pack and
// index file is stored, so a crash never leaves a snapshot that points at
// missing data, and the packs already uploaded are reused by the next run.
//
// Unreadable entries (permission denied, vanished) do not stop the backup:
// they are left out, counted, and returned as warnings with the snapshot.
package archiver
