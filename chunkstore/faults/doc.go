// Package faults is cairn's fault campaign: it runs the real cairn binary
// against repositories it damages and interrupts, and checks that nothing
// is lost or hidden. `make test-faults` runs it (cmd/cairn-faults) and it
// rewrites chunkstore/RELIABILITY.md with the figures.
//
// Scenarios, each seeded from one printed seed so that a failure can be
// replayed:
//
//   - kills: backup, prune and restore killed with SIGKILL at random
//     moments, on a local directory and on S3 (versitygw); after each, the
//     command runs again to completion and check --read-data must be clean.
//   - s3 faults: backups, restores and checks through a proxy in front of
//     versitygw that fails a share of requests (500, 503, connection
//     resets, slow answers, bodies cut short); everything must complete
//     and restore exactly.
//   - bit flips: one bit flipped in a pack, index file, snapshot, key file
//     or config of a copy of a repository; check --read-data must detect
//     every one, and no restore may finish without error and differ from
//     its source, nor get a file wrong that it does not report damaged.
//   - full disks: backups (and restores) onto small tmpfs and ext4 file
//     systems filled to leave each of several amounts free: each fails
//     cleanly or succeeds, check stays clean, and once space is freed the
//     next run completes and restores exactly.
//   - fuzzing: every repository parser's fuzz target for a fixed time.
//
// The campaign needs root for the mounts; it unmounts what it mounted on
// every exit path. It owns every process it starts and waits for it.
package faults
