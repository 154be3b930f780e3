// Package checker verifies a repository and names every problem it finds.
//
// Structure (always): every index file decrypts and parses; every pack an
// index lists exists and its header agrees with the index; every snapshot
// loads, and every tree, content list and chunk it references is indexed.
// Data (ReadData): every pack is read whole, its bytes must hash to its name,
// and every blob in it must decrypt, decompress and hash to its ID.
//
// Findings that are not damage (unindexed packs left by an interrupted
// backup, packs pending deletion) are reported as notes, not problems.
package checker
