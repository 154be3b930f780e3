package realnode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config says where the harness finds its tools and the module.
type Config struct {
	// ToolsBin holds etcd and the Kubernetes binaries (.tools/bin).
	ToolsBin string
	// ModuleRoot is the cairn module, built into the images.
	ModuleRoot string
	// Dir is the harness's scratch directory (logs, state, certificates).
	Dir string
	// Log receives progress lines (t.Logf in tests).
	Log func(format string, args ...any)
}

// Cluster is a running single-node cluster.
type Cluster struct {
	cfg     Config
	dir     string
	logDir  string
	host    *hostState
	pki     *pki
	probe   *http.Client
	daemons []*daemon // in start order; stopped in reverse
	etcdURL string
	saKey   string
	tokens  tokens
	netUp   bool

	Server, AdminKubeconfig, ContainerdSock string
	// BinDir holds the static binaries (cairn, the images' programs).
	BinDir string
	Rest   *rest.Config
	Kube   kubernetes.Interface
	// Timings records how long each start-up step took, for the report.
	Timings []Timing
}

// Timing is one start-up step's duration.
type Timing struct {
	Step string
	Took time.Duration
}

// Start brings up the node; on failure what was started is torn down and
// the error carries the tails of the component logs.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	for _, tool := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"} {
		if !fileExists(filepath.Join(cfg.ToolsBin, tool)) {
			return nil, fmt.Errorf("%s missing from %s: run `bash scripts/install-tools.sh --node` (make tools-realnode)", tool, cfg.ToolsBin)
		}
	}
	for _, p := range []string{"/usr/bin/containerd", "/usr/sbin/runc", "/usr/lib/cni/bridge", "/usr/lib/cni/host-local"} {
		if !fileExists(p) {
			return nil, fmt.Errorf("%s missing: run `bash scripts/install-tools.sh --node` (make tools-realnode)", p)
		}
	}
	host, err := claimHost()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, dir: cfg.Dir, logDir: filepath.Join(cfg.Dir, "logs"), host: host}
	if err := c.start(ctx); err != nil {
		logs := c.LogTails(40)
		return nil, errors.Join(fmt.Errorf("start the real node: %w\n%s", err, logs), c.Stop())
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	if err := os.MkdirAll(c.logDir, 0o755); err != nil {
		return err
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"build static binaries and images", c.buildAll},
		{"network", c.network},
		{"etcd", c.startEtcd},
		{"kube-apiserver", c.startAPIServer},
		{"controller manager and scheduler", c.startControllers},
		{"containerd and image import", func() error {
			if err := c.startContainerd(); err != nil {
				return err
			}
			return c.importImages(filepath.Join(c.dir, "images.tar"))
		}},
		{"kubelet", c.startKubelet},
		{"node ready", func() error { return c.waitNodeReady(ctx) }},
	}
	for _, s := range steps {
		t0 := time.Now()
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		c.Timings = append(c.Timings, Timing{s.name, time.Since(t0)})
		c.cfg.Log("realnode: %s: %s", s.name, time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

func (c *Cluster) buildAll() error {
	c.BinDir = filepath.Join(c.dir, "bin")
	if err := buildBinaries(c.cfg.ModuleRoot, c.BinDir); err != nil {
		return err
	}
	var err error
	if c.pki, err = newPKI(filepath.Join(c.dir, "pki")); err != nil {
		return err
	}
	ca, err := os.ReadFile(c.pki.CAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c.probe = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return buildImages(c.BinDir, filepath.Join(c.dir, "images.tar"))
}

// network puts the Service IP on the loopback interface (see ServiceIP).
// The bridge itself is made by the CNI plugin with the first pod.
func (c *Cluster) network() error {
	if _, err := run("ip", "addr", "add", ServiceIP+"/32", "dev", "lo"); err != nil && !strings.Contains(err.Error(), "File exists") {
		return err
	}
	c.netUp = true
	return nil
}

func (c *Cluster) tool(name string) string { return filepath.Join(c.cfg.ToolsBin, name) }

// waitNodeReady waits for the Node to be Ready and schedulable, then
// grants the API server the kubelet API and waits for the default
// service account.
func (c *Cluster) waitNodeReady(ctx context.Context) error {
	var err error
	if c.Rest, err = clientcmd.BuildConfigFromFlags("", c.AdminKubeconfig); err != nil {
		return err
	}
	c.Rest.QPS, c.Rest.Burst = 50, 100
	if c.Kube, err = kubernetes.NewForConfig(c.Rest); err != nil {
		return err
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "realnode:kube-apiserver-kubelet-client"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:kubelet-api-admin"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: kubeletClientUser}}}
	if _, err := c.Kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("grant the API server the kubelet API: %w", err)
	}
	if err := waitFor(90*time.Second, "node Ready without taints", func() (bool, error) {
		n, err := c.Kube.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return len(n.Spec.Taints) == 0, fmt.Errorf("taints %v", n.Spec.Taints)
			}
		}
		return false, errors.New("not Ready")
	}); err != nil {
		return err
	}
	return waitFor(60*time.Second, "default service account", func() (bool, error) {
		_, err := c.Kube.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
}

// LogTails returns the last n lines of every component's log.
func (c *Cluster) LogTails(n int) string {
	var b strings.Builder
	for _, d := range c.daemons {
		fmt.Fprintf(&b, "----- %s (last %d lines of %s)\n%s\n", d.name, n, d.log, d.tail(n))
	}
	return b.String()
}

// PodLogs returns the tail of every container's log in namespace ns, read
// through the API server (the kubelet's logs endpoint, as kubectl logs).
func (c *Cluster) PodLogs(ctx context.Context, ns string, lines int64) string {
	if c.Kube == nil {
		return ""
	}
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Sprintf("list pods in %s: %v\n", ns, err)
	}
	var b strings.Builder
	for _, p := range pods.Items {
		for _, ct := range p.Spec.Containers {
			fmt.Fprintf(&b, "----- pod %s/%s container %s (%s)\n", ns, p.Name, ct.Name, p.Status.Phase)
			req := c.Kube.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: ct.Name, TailLines: &lines})
			rc, err := req.Stream(ctx)
			if err != nil {
				fmt.Fprintf(&b, "(no log: %v)\n", err)
				continue
			}
			body, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
			rc.Close()
			b.Write(body)
			b.WriteString("\n")
		}
	}
	return b.String()
}
