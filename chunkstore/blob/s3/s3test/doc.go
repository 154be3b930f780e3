// Package s3test starts a real S3 server, versitygw, for tests (and, with
// Launch, for programs such as the fault campaign): on 127.0.0.1,
// on a free port, over a temporary directory, with random root credentials.
// The server dies with the test (t.Cleanup kills it, and the kernel kills it
// if the test binary itself dies).
//
// The binary is found through $CAIRN_VERSITYGW or at
// <module root>/.tools/bin/versitygw, where `make tools` installs it. A
// missing binary fails the test: skipping would let the S3 backend go
// untested without anyone noticing.
package s3test
