// Package location runs the controllers that look after BackupLocations and
// the lifetime of what is stored in them:
//
//   - Validator opens each location's repository through the shared
//     locations.Opener (which initialises an empty writable location) when
//     the location or one of its Secrets changes, and every
//     spec.validationInterval (default 1m). It sets status.phase
//     Available or Unavailable, the Available condition with a reason and a
//     message that says what to do, status.repositoryID and
//     status.lastValidationTime. Events mark transitions only, so a location
//     that stays down does not flood the namespace.
//   - Maintainer prunes each ReadWrite, Available location's repository on
//     spec.maintenanceSchedule (default "0 3 * * *", UTC), records
//     status.lastMaintenanceTime and the Maintained condition, and emits an
//     event with the result. Read-only locations are never pruned. A
//     location that sets spec.maintenanceMaxMemory is pruned through a
//     repository opened for the run alone, its index read from an on-disk
//     cache in Config.IndexCacheDir within that budget; a budget below
//     64Mi is reported in the Maintained condition and nothing runs.
//   - Expirer deletes each finished Backup once status.expiration has
//     passed. The backup controller's finalizer forgets the Backup's
//     repository data; this package only deletes the object.
//
// Invariants:
//   - Secret values never reach a status, an event, a log or an error: the
//     messages name Secrets and keys, never their content, and errors that
//     could echo a storage server's words about credentials are not quoted.
//   - One repository is never pruned twice at once by this process (a lock
//     per repository ID, so two locations naming one repository take
//     turns); across processes the pruner itself refuses to run beside a
//     live prune session.
//   - Prune runs at most once per maintenance slot, even when it fails (it
//     is tried again at the next slot), so a broken repository cannot make
//     the controller prune in a loop.
//   - Location status is patched with optimistic locking, because the
//     Validator and the Maintainer both write its conditions list and a
//     JSON merge patch replaces lists whole.
package location
