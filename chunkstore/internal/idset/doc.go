// Package idset is a set of blob IDs on disk: built by an external sort
// within a memory budget, stored as a sorted file of distinct IDs, and
// queried with one small read per lookup through fences kept in memory
// (8 bytes per 128 IDs). Prune builds the set of referenced blobs with it,
// so the set does not have to fit in memory.
//
// Invariants: a set's file is complete before it appears under its name
// (written to a temporary name, synced and renamed), so a set found on
// disk can be reused by a process that was killed after building it; its
// fences are rebuilt from the file when it is opened.
package idset
