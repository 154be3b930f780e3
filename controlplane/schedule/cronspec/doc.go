// Package cronspec parses the cron expressions of Schedules and maintenance
// windows and answers the two questions a controller asks: which slot, if
// any, is due now, and when is the next one.
//
// Expressions are robfig/cron's standard form: five fields (minute hour
// day-of-month month day-of-week) or a descriptor (@yearly, @monthly,
// @weekly, @daily, @hourly, @every <duration>), optionally prefixed with
// CRON_TZ=<zone>. Without a zone, times are UTC.
//
// Invariants:
//   - Slots are anchored: the same expression yields the same slot times on
//     every run and every controller, so a name derived from a slot is a
//     natural idempotency key. "@every d" is anchored at multiples of d since
//     the Unix epoch, not at whatever time the controller happened to look.
//   - Parse never panics, whatever the input, and refuses expressions that
//     never fire or fire more often than once a minute.
//   - Due returns only the newest slot after a reference time: a controller
//     that was down never makes up a storm of missed runs.
package cronspec
