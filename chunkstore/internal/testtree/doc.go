// Package testtree builds file trees with every kind of entry a backup must
// preserve, and compares two trees byte for byte and attribute by
// attribute. Tests across chunkstore use it for round trips.
package testtree
