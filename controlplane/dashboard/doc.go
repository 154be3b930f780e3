// Package dashboard is cairn's read-only web dashboard, served by
// cairn-controller on its own port when --dashboard-bind-address is set.
//
// It shows, for a person at a browser: the locations and whether they are
// available, the schedules with their last success and next run, the
// backups and restores running now with each volume's bytes, rate and ETA,
// the failures of the last 24 hours, one page per backup, restore,
// location and schedule, and a chart of each schedule's backup sizes and
// durations.
//
// # Invariants
//
//   - Read-only. The only handlers that accept a POST are the login and
//     logout of the optional token check, which set and clear a cookie;
//     nothing the dashboard does writes to the API server or to a
//     repository (no reading session is registered either: a read that a
//     concurrent prune breaks shows an error and is tried again).
//   - No API load per page view. Every page is built from the manager's
//     informer cache, the one the controllers use; a page view never lists
//     or gets from the API server. Repository figures (size, dedup and
//     compression ratios) are computed in the background every
//     Config.StatsInterval and cached; a backup's log and item list are
//     read from its repository once, in the background, and cached by
//     their content-addressed IDs, which never change.
//   - No Secret value, ever. The dashboard never reads a Secret: it shows
//     Secret names as the BackupLocation names them, never hook bodies or
//     object contents. The item list of a backup comes from the names of
//     its resources snapshot's trees; the stored objects are not read.
//   - Works without JavaScript. Every page is rendered on the server. With
//     JavaScript, live.js opens a server-sent event stream on the page's
//     own URL (Accept: text/event-stream) and swaps in the content the
//     server re-renders on every change of the objects the page shows;
//     without it, the page refreshes itself every 15 seconds. Everything
//     is embedded with go:embed: no CDN, no build step.
//   - Localhost by default. A bind address of just a port listens on
//     127.0.0.1 (reach it with kubectl port-forward). With the token check
//     (AuthToken), every request carries a bearer token (a header, or the
//     cookie the login form sets) that the API server's TokenReview
//     authenticates and whose user a SubjectAccessReview allows to get
//     backups.cairn.dev in the dashboard's namespace.
package dashboard
