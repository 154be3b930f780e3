// Package checker verifies a repository and names every problem it finds.
//
// Structure (always): every key file parses and matches its name; every
// index file decrypts and parses (a damaged one is reported, and the packs
// no other file lists are indexed from their headers so that the rest of
// the check still finds their blobs); every pack an index lists exists and
// its header agrees with the index; every snapshot loads, and every tree,
// content list and chunk it references is indexed.
// Data (ReadData): every pack is read whole, its bytes must hash to its
// name, and every blob in it must decrypt, decompress and hash to its ID
// (a pack whose header is damaged has its indexed blobs verified from the
// index instead).
//
// Damage is reported by what it costs: for every blob that is lost (its
// pack missing) or corrupt in every copy, each snapshot and path that needs
// it is named, in Report.Damaged and as a problem. Data is read before the
// snapshots are walked so that corrupt blobs are known by then.
//
// Memory: the structure check joins the store's pack listing, sorted on
// disk, with the index walked in pack order (repo.JoinPacks), and checks a
// directory or a file stored in content lists once however often it is
// listed; with the index cache (--max-memory) the index itself is on
// disk. ReadData keeps every pack's index entries in memory.
//
// Findings that are not damage (unindexed packs left by an interrupted
// backup, packs pending deletion, partial writes and stale sessions of dead
// processes, superseded index files) are reported as notes, not problems.
package checker
