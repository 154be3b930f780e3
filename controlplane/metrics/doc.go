// Package metrics holds cairn's controller metrics and the small functions
// controllers call to record them. The collectors are registered once, at
// package initialisation, on controller-runtime's metrics.Registry, so they
// are served by the manager's metrics endpoint with no further wiring.
//
// Names follow cairn_<subsystem>_<what>_<unit>. Label values are bounded:
// result is a final phase (Completed, PartiallyFailed, Failed) and schedule
// is a Schedule's name, whose series is removed when the Schedule is
// deleted (ForgetSchedule), so a churn of schedules does not leak series;
// location is a BackupLocation's name, likewise (ForgetLocation).
//
// The series of a schedule answer the alert "no success in twice the
// interval" (deploy/prometheus/alerts.yaml): the last success, and, only
// while the schedule runs (valid and not paused), its interval and creation
// time, so a paused schedule never alerts.
package metrics
