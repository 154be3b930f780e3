// Package dataset generates the benchmark datasets: reproducible from a
// seed, fast to write, and each with an incremental variant that is applied
// in place and reverted again.
//
// Two shapes exist. An Image is one large file written in 1 MiB blocks, each
// block incompressible, all zero or text-like. A Tree is many small
// text-like files in a deep directory tree.
//
// Invariants:
//   - The same parameters give the same bytes, on any machine: every block
//     and every file draws from its own PRNG, seeded from (seed, index,
//     version). Generation can therefore run in parallel in any order, and
//     a single block or file can be rewritten without the rest.
//   - The incremental variant is applied to the live dataset in place, so
//     the unchanged files keep their inode and times, as on a real volume;
//     backup tools' change detection sees exactly the changed files.
//   - A marker file records that the variant is applied; Prepare reverts a
//     dataset left mutated by an interrupted run before it is used again.
//   - The marker and the stamp live beside the dataset's directory, never
//     inside it, so the tools do not back them up.
package dataset
