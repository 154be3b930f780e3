// Package schedule is the Schedule controller: it makes Backups from a
// Schedule's template on its cron expression and retires old ones by the
// Schedule's GFS retention.
//
// Each reconcile of a Schedule:
//
//  1. Checks the spec. An expression that does not parse, never fires or
//     fires more than once a minute, or a name too long for the Backups'
//     names, sets Valid=False with a message that names the Schedule and
//     quotes the expression, and a Warning event; nothing else happens
//     until the spec changes.
//  2. Unless paused, finds the newest slot due since the last one run (or
//     since the Schedule was created) and creates the Backup
//     <schedule>-<yyyymmddhhmmss> (the slot in UTC), labelled
//     cairn.dev/schedule. Older missed slots are skipped with a Warning
//     event: after downtime, one backup is made, not a storm.
//  3. Applies retention to the Schedule's Completed Backups and deletes the
//     ones it does not keep. The backup controller's finalizer forgets their
//     repository data; this controller only deletes the objects.
//     PartiallyFailed and Failed Backups are neither counted nor deleted by
//     retention: they stay for inspection until their TTL expires them.
//  4. Writes status (last and next schedule time, last backup name, last
//     successful backup time) through the status subresource, sets the
//     cairn_schedule_last_success_timestamp_seconds gauge, and requeues for
//     the next slot.
//
// Invariants:
//   - Two Backups are never made for one slot: the name is a function of
//     the slot, so a repeated or concurrent attempt gets AlreadyExists. The
//     newest slot any of the Schedule's Backups records (annotation
//     cairn.dev/scheduled-for) also counts as run, so a stale cached
//     Schedule does not re-run a slot whose Backup retention already retired.
//   - Deleting a Schedule leaves its Backups: backups outlive the policy
//     that made them, as users of Velero expect.
//   - Time comes from an injectable Clock, and requeues are capped at
//     Config.MaxWait, so a wall-clock jump delays a run by at most that.
package schedule
