package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/blob/location"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

// start runs a local cluster for the test, stopped when it ends.
func start(t *testing.T, cfg localcluster.Config) *localcluster.Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "cairn-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = dir
	c, err := localcluster.Start(context.Background(), cfg)
	t.Cleanup(func() {
		logs := map[string]string{}
		for name, n := range c.Nodes {
			logs[name] = n.AgentLog
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop the cluster: %v", err)
		}
		if t.Failed() {
			for name, path := range logs {
				b, _ := os.ReadFile(path)
				t.Logf("agent log of %s (last 6000 bytes):\n%s", name, tail(string(b), 6000))
			}
		}
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	if err != nil {
		t.Fatalf("start the local cluster: %v", err)
	}
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// eventually polls cond until it holds, failing after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// backupNow creates a Backup of namespaces and waits for it to end.
func backupNow(t *testing.T, c *localcluster.Cluster, name string, namespaces ...string) *v1alpha1.Backup {
	t.Helper()
	b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: namespaces}}
	create(t, c, b)
	return waitBackup(t, c, name, 3*time.Minute)
}

func waitBackup(t *testing.T, c *localcluster.Cluster, name string, timeout time.Duration) *v1alpha1.Backup {
	t.Helper()
	var b v1alpha1.Backup
	eventually(t, timeout, "backup "+name+" to end", func() bool {
		return c.Client.Get(context.Background(), client.ObjectKey{Namespace: c.Namespace, Name: name}, &b) == nil && b.Status.Phase.Done()
	})
	return &b
}

func restoreNow(t *testing.T, c *localcluster.Cluster, name, backup string, mapping map[string]string) *v1alpha1.Restore {
	t.Helper()
	rs := &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace},
		Spec: v1alpha1.RestoreSpec{BackupName: backup, NamespaceMapping: mapping}}
	create(t, c, rs)
	var got v1alpha1.Restore
	eventually(t, 3*time.Minute, "restore "+name+" to end", func() bool {
		return c.Client.Get(context.Background(), client.ObjectKeyFromObject(rs), &got) == nil && got.Status.Phase.Done()
	})
	return &got
}

func create(t *testing.T, c *localcluster.Cluster, obj client.Object) {
	t.Helper()
	if err := c.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

func namespace(t *testing.T, c *localcluster.Cluster, name string) {
	t.Helper()
	create(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}

// volumeBackups lists a backup's work items by PVC name.
func volumeBackups(t *testing.T, c *localcluster.Cluster, backup string) map[string]v1alpha1.VolumeBackup {
	t.Helper()
	var list v1alpha1.VolumeBackupList
	if err := c.Client.List(context.Background(), &list, client.InNamespace(c.Namespace), client.MatchingLabels{v1alpha1.LabelBackup: backup}); err != nil {
		t.Fatal(err)
	}
	out := map[string]v1alpha1.VolumeBackup{}
	for _, vb := range list.Items {
		out[vb.Spec.Volume.PVC.Name] = vb
	}
	return out
}

func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func describeBackup(b *v1alpha1.Backup) string {
	return strings.Join(append(append([]string{string(b.Status.Phase)}, b.Status.Errors...), b.Status.Warnings...), "; ")
}

// snapshotsTagged counts the repository snapshots at dir carrying tag.
func snapshotsTagged(t *testing.T, dir, password, tag string) int {
	t.Helper()
	ctx := context.Background()
	store, err := location.Open(ctx, dir, location.Options{})
	mustOK(t, "open the repository's store", err)
	r, err := repo.Open(ctx, store, []byte(password), repo.Options{})
	mustOK(t, "open the repository", err)
	defer r.Close()
	ids, err := r.ListFiles(ctx, repo.KindSnapshot)
	mustOK(t, "list snapshots", err)
	n := 0
	for _, id := range ids {
		b, err := r.LoadFile(ctx, repo.KindSnapshot, id)
		mustOK(t, "read a snapshot", err)
		s, err := snapshot.Parse(b)
		mustOK(t, "parse a snapshot", err)
		if s.HasTag(tag) {
			n++
		}
	}
	return n
}

// journalRecords lists an agent's journal records other than bases.
func journalRecords(n *localcluster.Node) []string {
	recs, _ := filepath.Glob(filepath.Join(n.StateDir, "journal", "*.json"))
	var out []string
	for _, r := range recs {
		if !strings.HasPrefix(filepath.Base(r), "base-") {
			out = append(out, r)
		}
	}
	return out
}
