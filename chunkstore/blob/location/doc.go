// Package location turns the repository location a user types into an open
// blob.Store: a directory path or file:// URL becomes an fs store, and
// s3://bucket/prefix an S3 store. Either comes back wrapped in retry with its
// default policy, because every caller wants that and forgetting it would
// only show up as flaky backups.
//
// Credentials never travel in the URL (such a URL is refused rather than
// silently used): they come from Options or the standard AWS environment
// variables, and never appear in errors.
package location
