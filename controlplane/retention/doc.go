// Package retention decides which of a schedule's backups to keep under a
// grandfather-father-son policy. It is a pure function of the backups'
// names and times, so the schedule controller and the CLI (for a dry run)
// agree on what a policy does.
//
// Semantics (the same as restic's forget, which storage engineers know):
//   - KeepLast n keeps the n newest backups.
//   - Hourly, Daily, Weekly, Monthly and Yearly n each keep the newest
//     backup of each of the n most recent hours, days, ISO weeks, months or
//     years that hold a backup. Buckets are counted among those that hold
//     backups, not on the calendar back from now, so a schedule that stops
//     for a while never ages its history out.
//   - A backup kept by any rule is kept. A policy of all zeros keeps
//     everything (the backups' TTL still applies).
//   - Buckets are computed in UTC, whatever the times' locations, so the
//     answer does not depend on the controller's time zone.
//   - Backups are ordered newest first, equal times by name descending; the
//     first of a bucket in that order is its pick, so ties resolve the same
//     way on every run.
//   - A backup whose time is zero or after now (a clock that jumped) is
//     kept and takes no bucket: its age is unknown, and deleting is the one
//     mistake that cannot be undone.
package retention
