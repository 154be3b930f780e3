// Package blob defines the storage contract every repository backend meets:
// a flat namespace of immutable named objects. Backends live in the
// sub-packages fs, s3 and mem; fault wraps any of them to inject errors, and
// blobtest is the conformance suite all of them pass.
//
// The contract (every backend, every method):
//
//   - Put is atomic: a reader sees either no object or the whole object, never
//     a prefix. Putting an existing name replaces it atomically.
//   - Read-after-write: once Put returns nil, Get, Stat and List observe the
//     object. Once Delete returns nil they no longer do.
//   - Get reads a byte range; length < 0 reads to the end. A range past the end
//     is an error wrapping ErrRange.
//   - List walks every object whose name starts with prefix, in no promised
//     order, and stops at the first error the callback returns.
//   - Delete of a missing object returns an error wrapping ErrNotFound.
//   - Names are slash-separated, relative, without "." or ".." elements.
//
// Errors: backends translate their own errors, in one function each, into the
// sentinels below, wrapped with the operation and the object name, so callers
// use errors.Is and never inspect SDK or syscall errors.
//
// Two optional interfaces let hot readers avoid copies, with helpers that
// fall back to Get for stores without them: BufferGetter (GetInto, read
// into the caller's buffer; fs, mem, s3, retry) and RangeReader (ReadRange,
// a mapped range on fs; retry forwards it). A third, LeftoverCleaner,
// reports and removes the partial writes of processes that died mid-Put
// (temporary files on fs, incomplete multipart uploads on s3; retry
// forwards it), which no listing shows.
package blob
