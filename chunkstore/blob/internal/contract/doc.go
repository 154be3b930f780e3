// Package contract holds the argument checks every blob backend shares, so
// that mem, fs and s3 accept and refuse exactly the same names and ranges.
// It is internal because the rules belong to the blob contract, not to any
// caller: callers learn them from package blob's documentation.
package contract
