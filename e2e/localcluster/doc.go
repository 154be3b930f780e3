// Package localcluster runs a whole cairn installation as local
// processes, with nothing simulated but the kubelet: a real kube-apiserver
// and etcd (from the tools directory), cairn's controller, and for each
// simulated node the reference CSI driver on its own unix socket and a
// cairn-agent process with its own state and kubelet directories.
//
// The package plays the parts a cluster would: it registers the nodes and
// their CSINode objects, provisions volumes through each node's driver the
// way an external provisioner and the kubelet would (CSI volume, PV bound
// to its PVC, the pod's volume published under the node's kubelet
// directory), and reads restored volumes back for comparison.
//
// The end-to-end tests, `make demo` and the benchmark's agent leg all use
// it, so the demo shows exactly what the tests check.
package localcluster
