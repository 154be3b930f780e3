// Package locations opens the repository behind a BackupLocation: it reads
// the location's password and credentials from Secrets, opens (or, for a
// writable location that is empty, initialises) the repository, and caches
// the open repository so the password hash runs once per change of the
// location or its Secrets, not once per reconcile.
//
// Secrets are read into memory only; they never reach logs, events, errors
// or status. Errors say which Secret or key is missing, never its content.
package locations
