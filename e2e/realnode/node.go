package realnode

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// containerdConfig is containerd's config.toml (version 2): every path of
// its own under dir, the CRI plugin with a locally imported pause image,
// runc with cgroupfs, and the CNI configuration in a private directory.
// restrict_oom_score_adj: this machine's processes lack CAP_SYS_RESOURCE,
// and runc fails every sandbox that asks for a lower OOM score without it.
const containerdConfig = `version = 2
root = "%[1]s/root"
state = "%[1]s/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "%[1]s/containerd.sock"

[ttrpc]
  address = "%[1]s/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "%[1]s/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%[2]s"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%[1]s/cni"
`

// cniConfig is one bridge with host-local addresses on the pod subnet; no
// masquerading and no port maps, so nothing touches the host's firewall.
const cniConfig = `{
  "cniVersion": "0.4.0",
  "name": "cairn-realnode",
  "plugins": [{
    "type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": false, "hairpinMode": true,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": "%s"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "%s"}
  }]
}
`

func (c *Cluster) startContainerd() error {
	dir := filepath.Join(c.dir, "containerd")
	if err := os.MkdirAll(filepath.Join(dir, "cni"), 0o755); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(containerdConfig, dir, PauseImage)), 0o644); err != nil {
		return err
	}
	cni := fmt.Sprintf(cniConfig, BridgeName, PodSubnet, filepath.Join(dir, "ipam"))
	if err := os.WriteFile(filepath.Join(dir, "cni", "10-cairn.conflist"), []byte(cni), 0o644); err != nil {
		return err
	}
	c.ContainerdSock = filepath.Join(dir, "containerd.sock")
	d, err := startDaemon(c.logDir, "containerd", "/usr/bin/containerd", []string{"--config", cfg}, nil)
	if err != nil {
		return err
	}
	c.daemons = append(c.daemons, d)
	return waitFor(30*time.Second, "containerd serving", func() (bool, error) {
		if ended, err := d.exited(); ended {
			return false, fmt.Errorf("containerd exited: %v", err)
		}
		_, err := run("ctr", "-a", c.ContainerdSock, "version")
		return err == nil, err
	})
}

// kubeletConfig: webhook authentication and authorization, so the API
// server's exec and logs requests are checked by RBAC as in a real
// cluster; cgroup v1 with cgroupfs (this machine has no systemd); relaxed
// eviction thresholds on a shared disk.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %s}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%s
staticPodPath: %s
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %d
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 5%%, imagefs.available: 5%%, nodefs.inodesFree: 1%%}
`

func (c *Cluster) startKubelet() error {
	dir := filepath.Join(c.dir, "kubelet")
	static := filepath.Join(dir, "static")
	if err := os.MkdirAll(static, 0o755); err != nil {
		return err
	}
	cert, key, err := c.pki.issue("kubelet", "system:node:"+NodeName, []string{"system:nodes"})
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, c.Server, c.pki.CAFile, "", cert, key); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(kubeletConfig, c.pki.CAFile, c.ContainerdSock, static, port)), 0o644); err != nil {
		return err
	}
	d, err := startDaemon(c.logDir, "kubelet", c.tool("kubelet"), []string{
		"--config", cfg, "--kubeconfig", kubeconfig, "--root-dir", KubeletDir,
		"--cert-dir", filepath.Join(dir, "pki"), "--hostname-override", NodeName,
	}, nil)
	if err != nil {
		return err
	}
	c.daemons = append(c.daemons, d)
	return waitFor(60*time.Second, "kubelet healthy", func() (bool, error) {
		if ended, err := d.exited(); ended {
			return false, fmt.Errorf("kubelet exited: %v", err)
		}
		return httpOK(c.probe, "http://127.0.0.1:"+strconv.Itoa(port)+"/healthz", nil)
	})
}
