// Package retry wraps a blob.Store so that transient backend failures are
// retried with capped exponential backoff and full jitter.
//
// Invariants:
//
//   - Only errors wrapping blob.ErrTransient are retried up to
//     Policy.Attempts, and blob.ErrUnavailable up to the smaller
//     Policy.UnavailableAttempts (an endpoint that refuses connections is
//     usually misconfigured, and the user should hear so in seconds).
//     Everything else, ErrNotFound, ErrPermission, ErrLocationMissing,
//     ErrNoSpace, ErrRange and context errors included, returns at once.
//   - Every wait honours the context; a cancelled context ends the operation
//     with an error wrapping both the context error and the last failure.
//   - An error that survived retries says how many attempts were made.
//   - List is retried only while its callback has not been called, since the
//     contract promises no order and a restart would repeat entries.
//   - A Delete that reports ErrNotFound after an earlier attempt failed
//     transiently counts as success: the earlier attempt most likely removed
//     the object and lost the response.
//
// This wrapper owns retries for the whole stack: backends keep their SDK's
// own retrying to a minimum so that attempts do not multiply.
package retry
