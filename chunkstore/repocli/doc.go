// Package repocli is the standalone "cairn repo" command tree: it drives a
// repository directly (init, backup, restore, snapshots, ls, forget, prune,
// check, repair, stats, key management) without Kubernetes, for operators,
// the demo and the benchmark harness.
//
// Conventions every command follows:
//   - Results go to stdout: a short human summary, or with --json one JSON
//     document that scripts can parse. Everything else (progress, warnings,
//     prompts) goes to stderr, so stdout stays parseable.
//   - Progress is drawn only when stderr is a terminal; in scripts and CI the
//     command prints its one-line summary at the end instead.
//   - Errors are returned, never printed: the caller (cmd/cairn) prints one
//     line, "cairn: <message>", and exits with ExitCode(err). The library
//     errors already name the object and the fix, so they are not wrapped
//     again here.
//   - Passwords are read from --password-file, CAIRN_PASSWORD or a no-echo
//     prompt, and never written anywhere.
package repocli
