// Package harness runs cairn beside restic and kopia on the datasets of
// package dataset and reports what each cost: wall time, throughput, CPU
// time, peak RSS and repository size, for an initial backup, an
// incremental backup and a full restore. It writes results.json and
// RESULTS.md, the latter rendered from the former alone.
//
// Invariants:
//   - Every restore is compared byte for byte with its source. A restore
//     that differs, or a tool that fails, is a Failure: it never becomes a
//     figure, and the caller exits non-zero.
//   - Each figure is a median over runs, and the configurations take turns
//     within a run in an order that rotates from run to run, so that drift
//     of the shared machine hits all of them alike.
//   - Tools run as child processes, as a user runs them, with their
//     repository, cache and config in a per-cycle directory that is
//     removed afterwards; nothing of the user's environment (passwords,
//     repositories, HOME) reaches them.
//   - The datasets are left in their base state after every cycle,
//     whether it failed or not.
//   - Speed is reported, never asserted: the smoke mode checks only that
//     the whole path works and every restore is correct.
package harness
