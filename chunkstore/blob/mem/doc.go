// Package mem is an in-memory blob.Store for unit tests of the packages above
// the storage layer.
//
// Invariants: data is copied on the way in and on the way out, so a caller
// that reuses its buffers can never alter a stored object or another
// caller's result; a single RWMutex makes every method safe for concurrent
// use; List works on a snapshot taken under the lock, so the callback may
// call back into the store. It enforces the same name and range rules as the
// real backends, so a test that passes on mem does not rely on leniency.
package mem
