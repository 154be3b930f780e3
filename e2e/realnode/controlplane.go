package realnode

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Addresses of the node's private network. The API server's Service IP is
// put on the host's loopback interface and the API server listens on 443,
// so pods reach "kubernetes.default" through their gateway without a
// service proxy (there is no kube-proxy here); versitygw listens there too.
const (
	PodSubnet   = "10.217.0.0/24"
	ServiceCIDR = "10.217.1.0/24"
	ServiceIP   = "10.217.1.1"
	BridgeName  = "cairn-rn0"
	NodeName    = "realnode"
)

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startEtcd starts etcd on loopback ports of its own.
func (c *Cluster) startEtcd() error {
	client, err := freePort()
	if err != nil {
		return err
	}
	peer, err := freePort()
	if err != nil {
		return err
	}
	cu, pu := "http://127.0.0.1:"+strconv.Itoa(client), "http://127.0.0.1:"+strconv.Itoa(peer)
	c.etcdURL = cu
	d, err := startDaemon(c.logDir, "etcd", c.tool("etcd"), []string{
		"--name", "realnode", "--data-dir", filepath.Join(c.dir, "etcd"),
		"--listen-client-urls", cu, "--advertise-client-urls", cu,
		"--listen-peer-urls", pu, "--initial-advertise-peer-urls", pu,
		"--initial-cluster", "realnode=" + pu, "--unsafe-no-fsync",
	}, nil)
	if err != nil {
		return err
	}
	c.daemons = append(c.daemons, d)
	return waitFor(30*time.Second, "etcd healthy", func() (bool, error) {
		return httpOK(http.DefaultClient, cu+"/health", nil)
	})
}

// tokens are the static bearer tokens of the control-plane users.
type tokens struct{ admin, controllerManager, scheduler string }

// startAPIServer starts kube-apiserver with client certificates and a
// token file, and the Node and RBAC authorizers.
func (c *Cluster) startAPIServer() error {
	p := c.pki
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	serving, servingKey, err := p.issue("apiserver", "kube-apiserver", nil,
		"127.0.0.1", ServiceIP, "localhost", host, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local")
	if err != nil {
		return err
	}
	kc, kcKey, err := p.issue("apiserver-kubelet-client", kubeletClientUser, nil)
	if err != nil {
		return err
	}
	saKey, saPub, err := p.serviceAccountKey()
	if err != nil {
		return err
	}
	c.saKey = saKey
	c.tokens = tokens{admin: randomToken(), controllerManager: randomToken(), scheduler: randomToken()}
	tokenFile := filepath.Join(p.dir, "tokens.csv")
	csv := fmt.Sprintf("%s,admin,admin,system:masters\n%s,system:kube-controller-manager,kcm\n%s,system:kube-scheduler,sched\n",
		c.tokens.admin, c.tokens.controllerManager, c.tokens.scheduler)
	if err := os.WriteFile(tokenFile, []byte(csv), 0o600); err != nil {
		return err
	}
	d, err := startDaemon(c.logDir, "kube-apiserver", c.tool("kube-apiserver"), []string{
		"--etcd-servers", c.etcdURL,
		"--secure-port", "443", "--bind-address", "0.0.0.0",
		"--tls-cert-file", serving, "--tls-private-key-file", servingKey,
		"--client-ca-file", p.CAFile, "--token-auth-file", tokenFile,
		"--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction",
		"--allow-privileged=true",
		"--service-cluster-ip-range", ServiceCIDR,
		"--service-account-key-file", saPub, "--service-account-signing-key-file", saKey,
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--kubelet-client-certificate", kc, "--kubelet-client-key", kcKey,
		"--kubelet-preferred-address-types", "InternalIP,Hostname",
	}, nil)
	if err != nil {
		return err
	}
	c.daemons = append(c.daemons, d)
	c.Server = "https://127.0.0.1:443"
	c.AdminKubeconfig = filepath.Join(c.dir, "admin.kubeconfig")
	if err := writeKubeconfig(c.AdminKubeconfig, c.Server, p.CAFile, c.tokens.admin, "", ""); err != nil {
		return err
	}
	return waitFor(90*time.Second, "kube-apiserver ready", func() (bool, error) {
		if ended, err := d.exited(); ended {
			return false, fmt.Errorf("kube-apiserver exited: %v", err)
		}
		return httpOK(c.probe, c.Server+"/readyz", map[string]string{"Authorization": "Bearer " + c.tokens.admin})
	})
}

// kubeletClientUser is who the API server is to the kubelet; RBAC grants
// it the kubelet API (exec, logs) as kubeadm does.
const kubeletClientUser = "kube-apiserver-kubelet-client"

func (c *Cluster) startControllers() error {
	kcm := filepath.Join(c.dir, "controller-manager.kubeconfig")
	if err := writeKubeconfig(kcm, c.Server, c.pki.CAFile, c.tokens.controllerManager, "", ""); err != nil {
		return err
	}
	d, err := startDaemon(c.logDir, "kube-controller-manager", c.tool("kube-controller-manager"), []string{
		"--kubeconfig", kcm, "--authentication-kubeconfig", kcm, "--authorization-kubeconfig", kcm,
		"--controllers", "*", "--leader-elect=false", "--use-service-account-credentials=true",
		"--service-account-private-key-file", c.saKey, "--root-ca-file", c.pki.CAFile,
		"--bind-address", "127.0.0.1", "--secure-port", "0",
	}, nil)
	if err != nil {
		return err
	}
	c.daemons = append(c.daemons, d)
	sched := filepath.Join(c.dir, "scheduler.kubeconfig")
	if err := writeKubeconfig(sched, c.Server, c.pki.CAFile, c.tokens.scheduler, "", ""); err != nil {
		return err
	}
	d, err = startDaemon(c.logDir, "kube-scheduler", c.tool("kube-scheduler"), []string{
		"--kubeconfig", sched, "--authentication-kubeconfig", sched, "--authorization-kubeconfig", sched,
		"--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", "0",
	}, nil)
	if err != nil {
		return err
	}
	c.daemons = append(c.daemons, d)
	return nil
}

// httpOK GETs url and wants 200.
func httpOK(client *http.Client, url string, headers map[string]string) (bool, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET %s: %s", strings.Split(url, "?")[0], resp.Status)
	}
	return true, nil
}
