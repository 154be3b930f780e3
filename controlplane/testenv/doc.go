// Package testenv starts a real kube-apiserver with etcd for integration
// tests, through controller-runtime's envtest, with cairn's CRDs installed.
// The binaries come from the tools directory that `make tools` fills; when
// they are missing the test fails with the command to run, never skips.
//
// It lives outside controlplane/internal so the node agent's and the
// end-to-end suites can start the same server.
package testenv
