// Package e2e holds cairn's end-to-end tests: the controller, node agents
// (as separate processes, one per simulated node), the reference CSI driver
// on unix sockets, a real kube-apiserver with etcd and, where the test says
// so, a real S3 server — all started by the tests (see localcluster).
package e2e
