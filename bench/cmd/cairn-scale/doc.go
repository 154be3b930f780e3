// Command cairn-scale measures cairn on a simulated large repository
// (bench/SCALE.md): `make bench-scale` runs it at 10^7 index entries and,
// with SCALE_SIZES, at more.
//
//	cairn-scale run -entries N -work DIR -cairn bin/cairn [-max-memory 256MiB]
//
// generates the repository and runs every step, printing the figures as
// JSON; `gen`, `lookup` and `plan` are the steps it runs itself.
package main
