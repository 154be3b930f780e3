// Package core holds the few value types every other chunkstore package
// shares: the 32-byte content ID and the blob type. It has no dependencies so
// that the index, pack and repository packages can all speak the same IDs
// without importing one another.
package core
