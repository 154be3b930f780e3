// Package archiver backs up file trees and block images into a repository.
//
// The pipeline, every stage concurrent and every queue bounded:
//
//	walker ──segments──▶ workers (read → zero-skip → chunk → hash → Saver) ──packs──▶ uploaders
//	   └──directories (post-order)──▶ finisher (waits for its files, saves tree blobs)
//
// The walker lists directories in name order, walking subdirectories in
// parallel while walker slots are free; it reads each directory's entry
// metadata and the parent snapshot's listings several at a time, reuses
// the content (and xattrs) of entries whose metadata matches the parent
// snapshot, and cuts other files into segments (chunker.SegmentSize) so one
// large file keeps every worker busy. A worker streams its segment through a
// window of two largest chunks, cutting chunks as soon as their ends are
// known: the chunks are those of cutting the whole segment at once.
// A file's node is complete when its last segment is; a directory is saved
// when all its files are. The snapshot is written last, after every pack and
// index file is stored, so a crash never leaves a snapshot that points at
// missing data, and the packs already uploaded are reused by the next run.
//
// Unreadable entries (permission denied, vanished) do not stop the backup:
// they are left out, counted, and returned as warnings with the snapshot.
package archiver
