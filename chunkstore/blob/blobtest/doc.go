// Package blobtest is the conformance suite for blob.Store. Every backend's
// own tests call Run with a constructor that returns a fresh, empty store, so
// mem, fs and S3 are held to one definition of the contract in package blob.
//
// The suite checks outcomes only (bytes, sizes, names, sentinel errors),
// never call sequences, so it stays valid for any correct implementation.
// Each subtest gets its own store: a failure in one cannot leak objects into
// another, and backends are free to run subtests against shared servers.
package blobtest
