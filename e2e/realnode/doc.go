// Package realnode runs cairn end to end on a real Kubernetes node that
// the tests start themselves: etcd, kube-apiserver (a token file and
// client certificates; the Node and RBAC authorizers),
// kube-controller-manager, kube-scheduler, containerd with runc, and a
// kubelet whose API is guarded by webhook authentication and
// authorization, so every exec goes through RBAC as in a real cluster.
//
// Nothing is pulled: cairn's controller, agent and reference CSI driver,
// the test application and the pause image are built here as static
// binaries, packed into OCI images with go-containerregistry and imported
// into containerd. cairn is installed with `cairn install` from those
// images; the reference driver runs as a DaemonSet pod
// (deploy/examples/csi-hostpath.yaml) that registers itself with the
// kubelet through the plugin registration API (package kubeletreg).
//
// # The node's network and paths
//
// Pods sit on a private bridge (BridgeName, PodSubnet) made by the CNI
// bridge plugin. There is no kube-proxy: the API server's Service IP is put
// on the host's loopback interface and the API server listens on 443, so
// in-cluster clients reach it through their gateway; versitygw (the
// backup location) listens on the same address. The kubelet's root is the
// standard /var/lib/kubelet, because cairn's manifests name it as every
// cluster's do.
//
// # Host state
//
// One node per machine (a lock file). Start refuses a /var/lib/kubelet it
// did not make, and cleans up one left by an earlier, killed run (it
// carries a marker). Stop deletes the pods while the kubelet runs, stops
// the daemons in reverse order, kills containerd's shims, removes the
// kubepods cgroups, unmounts everything under the node's directories,
// detaches their loop devices, removes the bridge and the Service address
// and the directories the run made, and restores the sysctls the kubelet
// sets. The suite fails if anything is left.
//
// The tests are behind the realnode build tag (`make test-realnode`) and
// need root; tools come from `scripts/install-tools.sh --node`.
package realnode
