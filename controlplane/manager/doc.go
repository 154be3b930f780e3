// Package manager assembles cairn's control plane: one controller-runtime
// manager running the Backup, Restore, Schedule, BackupLocation
// (validation, maintenance, expiry) and sync controllers, sharing one
// repository opener so each location's password is hashed once.
package manager
