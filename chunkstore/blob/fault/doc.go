// Package fault wraps a blob.Store to inject failures in tests: errors on
// chosen operations and names, latency, corrupted reads, responses lost after
// the write happened, and a kill switch that simulates a crash after a given
// number of successful Puts. Per-operation call counters let a test check
// how hard the code under test tried, while assertions stay on outcomes.
//
// Rules are evaluated on every call; every rule that matches applies (delays
// add up, the first error wins), and a rule with Times > 0 retires after
// firing that many times. All methods are safe for concurrent use.
package fault
