// Package repotest gives tests repositories on every backend: in memory, in
// a local directory, and on a real S3 server (versitygw) that it starts.
package repotest
