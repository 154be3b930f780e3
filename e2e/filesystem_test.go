package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

// freePort returns a loopback address nobody listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	mustOK(t, "find a free port", err)
	defer l.Close()
	return l.Addr().String()
}

func httpGet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The file-system data path reads a running pod's volume through the
// kubelet's pod-volume directory; the agent's /readyz, /healthz and
// /metrics answer and count what it did.
func TestFileSystemDataPathAndAgentEndpoints(t *testing.T) {
	metrics, probes := freePort(t), freePort(t)
	c := start(t, localcluster.Config{Nodes: []string{"node-a"},
		AgentArgs: []string{"--metrics-bind-address", metrics, "--health-probe-bind-address", probes}})
	ctx := context.Background()
	eventually(t, 30*time.Second, "the agent to be ready", func() bool {
		code, _ := httpGet("http://" + probes + "/readyz")
		return code == http.StatusOK
	})
	if code, body := httpGet("http://" + probes + "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d %s", code, body)
	}
	mustOK(t, "add the location", c.AddLocation(ctx, "default", localcluster.LocationSpec{URL: c.Nodes["node-a"].Dir + "/../repo", Password: localcluster.Password()}))
	namespace(t, c, "live")
	_, err := c.Provision(ctx, localcluster.VolumeSpec{Namespace: "live", PVC: "data", Node: "node-a", Size: 64 * mib})
	mustOK(t, "provision", err)
	paths, err := c.RunPod(ctx, localcluster.PodSpec{Namespace: "live", Name: "app", Node: "node-a", Claims: []string{"data"}})
	mustOK(t, "run the pod", err)
	written, err := localcluster.WriteTree(paths["data"], 7, 120)
	mustOK(t, "write", err)
	want, err := localcluster.DigestTree(paths["data"])
	mustOK(t, "digest", err)

	create(t, c, &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "live", Namespace: c.Namespace},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"live"}, VolumePolicy: v1alpha1.VolumePolicy{Default: v1alpha1.DataPathFileSystem}}})
	b := waitBackup(t, c, "live", 2*time.Minute)
	vb := volumeBackups(t, c, "live")["data"]
	if b.Status.Phase != v1alpha1.BackupCompleted || vb.Spec.DataPath != v1alpha1.DataPathFileSystem || vb.Status.Stats.BytesRead != written {
		t.Fatalf("backup %s; item %s via %s read %d of %d bytes: %s", b.Status.Phase, vb.Status.Phase, vb.Spec.DataPath,
			vb.Status.Stats.BytesRead, written, vb.Status.Message)
	}
	mustOK(t, "stop the pod", c.StopPods(ctx, "live"))
	rs := restoreNow(t, c, "live", "live", map[string]string{"live": "live-restored"})
	if rs.Status.Phase != v1alpha1.RestoreCompleted {
		t.Fatalf("restore: %s %v", rs.Status.Phase, rs.Status.Errors)
	}
	p, closeFn, err := c.OpenClaim(ctx, "live-restored", "data")
	mustOK(t, "open the restored volume", err)
	got, err := localcluster.DigestTree(p)
	mustOK(t, "digest", err)
	mustOK(t, "close", closeFn())
	if got != want {
		t.Error("the volume restored from the file-system backup differs")
	}
	_, body := httpGet("http://" + metrics + "/metrics")
	for metric, least := range map[string]float64{
		`cairn_agent_read_bytes_total`:                               float64(written),
		`cairn_agent_items_total{kind="backup",result="Completed"}`:  1,
		`cairn_agent_items_total{kind="restore",result="Completed"}`: 1,
		`cairn_agent_restored_bytes_total`:                           float64(written),
	} {
		if v := metricValue(body, metric); v < least {
			t.Errorf("%s = %v, want at least %v", metric, v, least)
		}
	}
}

// metricValue finds a sample in Prometheus text exposition, or -1.
func metricValue(body, sample string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` ([0-9.e+]+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// A claim without a storage class is restored through the driver that
// provisioned the backed-up volume.
func TestRestoreOfAClaimWithoutStorageClass(t *testing.T) {
	c := start(t, localcluster.Config{Nodes: []string{"node-a"}})
	ctx := context.Background()
	mustOK(t, "add the location", c.AddLocation(ctx, "default", localcluster.LocationSpec{URL: c.Nodes["node-a"].Dir + "/../repo", Password: localcluster.Password()}))
	namespace(t, c, "static")
	_, err := c.Provision(ctx, localcluster.VolumeSpec{Namespace: "static", PVC: "data", Node: "node-a", Size: 32 * mib, NoClass: true})
	mustOK(t, "provision", err)
	paths, err := c.RunPod(ctx, localcluster.PodSpec{Namespace: "static", Name: "app", Node: "node-a", Claims: []string{"data"}})
	mustOK(t, "run the pod", err)
	_, err = localcluster.WriteTree(paths["data"], 9, 40)
	mustOK(t, "write", err)
	want, err := localcluster.DigestTree(paths["data"])
	mustOK(t, "digest", err)
	if b := backupNow(t, c, "static", "static"); b.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("backup: %s", describeBackup(b))
	}
	mustOK(t, "stop the pod", c.StopPods(ctx, "static"))
	rs := restoreNow(t, c, "static", "static", map[string]string{"static": "static-restored"})
	if rs.Status.Phase != v1alpha1.RestoreCompleted {
		t.Fatalf("restore: %s %v", rs.Status.Phase, rs.Status.Errors)
	}
	p, closeFn, err := c.OpenClaim(ctx, "static-restored", "data")
	mustOK(t, "open the restored volume", err)
	got, err := localcluster.DigestTree(p)
	mustOK(t, "digest", err)
	mustOK(t, "close", closeFn())
	if got != want {
		t.Error("the restored volume differs")
	}
}
