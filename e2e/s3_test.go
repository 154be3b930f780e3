package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

// Two agents write into one S3 repository at once, through a driver that
// demands CSI secrets; the repository checks clean byte for byte, the
// restore is exact, and no secret shows up in any agent log, event or
// status.
func TestTwoAgentsIntoOneS3Repository(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	csiToken := "csi-vendor-token-" + localcluster.Password()
	c := start(t, localcluster.Config{CSISecret: map[string]string{"token": csiToken}})
	ctx := context.Background()
	password := localcluster.Password()
	url := "s3://" + bucket + "/cairn"
	mustOK(t, "add the location", c.AddLocation(ctx, "default", localcluster.LocationSpec{URL: url,
		S3Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Password: password}))
	a := startApp(t, c, "shop")
	files, db := a.digests(t)

	b := backupNow(t, c, "to-s3", "shop")
	if b.Status.Phase != v1alpha1.BackupCompleted {
		t.Fatalf("backup: %s", describeBackup(b))
	}
	items := volumeBackups(t, c, "to-s3")
	if !overlapped(items["files"], items["db"]) {
		t.Logf("the two items did not overlap in time; the concurrent-writer part is weaker this run")
	}
	cmd := exec.Command(filepath.Join(c.BinDir(), "cairn"), "repo", "check", "--read-data", "--repo", url, "--s3-endpoint", srv.Endpoint)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+srv.SecretKey,
		"AWS_REGION="+s3test.Region, "CAIRN_PASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cairn repo check --read-data: %v\n%s", err, out)
	}

	mustOK(t, "stop the pods", c.StopPods(ctx, "shop"))
	rs := restoreNow(t, c, "from-s3", "to-s3", map[string]string{"shop": "shop-s3"})
	if rs.Status.Phase != v1alpha1.RestoreCompleted {
		t.Fatalf("restore: %s %v", rs.Status.Phase, rs.Status.Errors)
	}
	gotFiles, gotDB := restoredDigests(t, c, "shop-s3", a.dbSize)
	if gotFiles != files || gotDB != db {
		t.Errorf("restore from S3 differs: files equal %v, image equal %v", gotFiles == files, gotDB == db)
	}
	checkNoLeftovers(t, c, map[string]string{"token": csiToken})
	checkNoSecrets(t, c, map[string]string{"repository password": password, "S3 secret key": srv.SecretKey, "CSI secret": csiToken})
}

// overlapped reports whether two items ran at the same time.
func overlapped(x, y v1alpha1.VolumeBackup) bool {
	if x.Status.StartTime == nil || y.Status.StartTime == nil || x.Status.CompletionTime == nil || y.Status.CompletionTime == nil {
		return false
	}
	return x.Status.StartTime.Before(y.Status.CompletionTime) && y.Status.StartTime.Before(x.Status.CompletionTime)
}

// checkNoSecrets looks for each secret in the agents' logs, in every event
// and in the status of every cairn object.
func checkNoSecrets(t *testing.T, c *localcluster.Cluster, secrets map[string]string) {
	t.Helper()
	ctx := context.Background()
	var texts []string
	for name, n := range c.Nodes {
		b, err := os.ReadFile(n.AgentLog)
		mustOK(t, "read the agent log of "+name, err)
		texts = append(texts, string(b))
	}
	var old corev1.EventList
	mustOK(t, "list events", c.Client.List(ctx, &old))
	var evs eventsv1.EventList
	mustOK(t, "list events.k8s.io", c.Client.List(ctx, &evs))
	lists := []client.ObjectList{&old, &evs, &v1alpha1.VolumeBackupList{}, &v1alpha1.VolumeRestoreList{},
		&v1alpha1.BackupList{}, &v1alpha1.RestoreList{}, &v1alpha1.BackupLocationList{}}
	for _, l := range lists[2:] {
		mustOK(t, "list", c.Client.List(ctx, l))
	}
	if len(evs.Items)+len(old.Items) == 0 {
		t.Error("no events at all were recorded; the check would prove nothing")
	}
	for _, l := range lists {
		b, _ := json.Marshal(l)
		texts = append(texts, string(b))
	}
	for what, s := range secrets {
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("the %s appears in a log, event or status", what)
				break
			}
		}
	}
}
