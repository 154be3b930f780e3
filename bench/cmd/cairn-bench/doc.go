// Command cairn-bench runs the benchmark harness: `make bench` for the full
// run that writes bench/RESULTS.md and bench/results.json, `make
// bench-smoke` for a one-minute end-to-end check on tiny datasets that
// fails (exit 1) on any tool error or incorrect restore.
//
// With -report FILE it only renders RESULTS.md again from a results.json.
package main
