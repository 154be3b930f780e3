package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/internal/cptest"
	"github.com/cairnbackup/cairn/controlplane/schedule"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// startCluster runs the API server with the backup, restore and schedule
// controllers, the test agent, and an application namespace "shop".
func startCluster(t *testing.T) (*cptest.Fixture, *cli) {
	f := cptest.Start(t)
	f.Env.StartManager(t, func(mgr ctrl.Manager) error {
		return schedule.New(schedule.Config{Recorder: mgr.GetEventRecorder("schedule")}).SetupWithManager(mgr)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); agent{c: f.C}.run(ctx, cptest.NS) }()
	t.Cleanup(func() { cancel(); <-done })
	f.App(t, "shop")
	return f, &cli{t: t, kubeconfig: writeKubeconfig(t, f.Env.Config), namespace: cptest.NS}
}

// The backup journey: create with --wait, get and describe in every
// format, logs from the repository, restore with a mapping, delete.
func TestBackupAndRestoreJourney(t *testing.T) {
	f, c := startCluster(t)
	r := c.ok("backup", "create", "shop-1", "--include-namespaces", "shop", "--wait")
	if !strings.Contains(r.out, `Backup "shop-1" Completed`) || !strings.Contains(r.err, "volume shop/data on node node-a") ||
		!strings.Contains(r.err, "backup shop-1 WaitingForVolumes") {
		t.Fatalf("create --wait output lacks the progress or the result:\n%s", r)
	}
	var b v1alpha1.Backup
	decode(t, c.ok("backup", "get", "shop-1", "-o", "json").out, &b)
	if b.Kind != "Backup" || b.APIVersion != "cairn.dev/v1alpha1" || b.Status.Phase != v1alpha1.BackupCompleted ||
		b.Status.VolumesCompleted != 1 || len(b.Spec.IncludedNamespaces) != 1 || b.ManagedFields != nil {
		t.Fatalf("get -o json: %+v", b)
	}
	var l struct {
		Kind  string            `json:"kind"`
		Items []v1alpha1.Backup `json:"items"`
	}
	decode(t, c.ok("backup", "get", "-o", "json").out, &l)
	if l.Kind != "List" || len(l.Items) != 1 || l.Items[0].Name != "shop-1" {
		t.Fatalf("get -o json of all: %+v", l)
	}
	if out := c.ok("backup", "get", "shop-1", "-o", "yaml").out; !strings.Contains(out, "kind: Backup\n") {
		t.Fatalf("get -o yaml:\n%s", out)
	}
	if out := c.ok("backup", "get").out; !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "shop-1   Completed") {
		t.Fatalf("get table:\n%s", out)
	}
	d := c.ok("backup", "describe", "shop-1").out
	for _, want := range []string{"Phase:", "Completed", "shop/data:", "Node:", "node-a", "snapshot-move (read full)",
		"read 4.0 MiB, new after dedup 2.0 MiB, stored 1.0 MiB", "Snapshot:", "5f3c0c7e9a1b", "Hooks:", "FreezeWindowClosed"} {
		if !strings.Contains(d, want) {
			t.Errorf("describe lacks %q:\n%s", want, d)
		}
	}
	logs := c.ok("backup", "logs", "shop-1").out
	if !strings.Contains(logs, "backup cairn/shop-1:") || !strings.Contains(logs, "volume shop/data: Completed") {
		t.Fatalf("logs:\n%s", logs)
	}
	restoreWithMapping(t, f, c)
	c.ok("backup", "delete", "shop-1", "--wait")
	c.fails(1, `backup "shop-1" not found in namespace cairn, which has no backups`, "backup", "describe", "shop-1")
}

func restoreWithMapping(t *testing.T, f *cptest.Fixture, c *cli) {
	t.Helper()
	r := c.ok("restore", "create", "back", "--from-backup", "shop-1", "--namespace-mappings", "shop:shop-restored", "--wait")
	if !strings.Contains(r.out, `Restore "back" Completed`) {
		t.Fatalf("restore --wait:\n%s", r)
	}
	var cm corev1.ConfigMap
	if err := f.C.Get(context.Background(), client.ObjectKey{Namespace: "shop-restored", Name: "settings"}, &cm); err != nil {
		t.Fatalf("the mapped namespace was not restored: %v", err)
	}
	var rs v1alpha1.Restore
	decode(t, c.ok("restore", "get", "back", "-o", "json").out, &rs)
	if rs.Spec.NamespaceMapping["shop"] != "shop-restored" || rs.Status.Phase != v1alpha1.RestoreCompleted || rs.Status.Counts.Created == 0 {
		t.Fatalf("restore get -o json: %+v", rs)
	}
	d := c.ok("restore", "describe", "back").out
	for _, want := range []string{"Namespace mappings:", "shop → shop-restored", "shop-restored/data:", "Created:"} {
		if !strings.Contains(d, want) {
			t.Errorf("restore describe lacks %q:\n%s", want, d)
		}
	}
	if logs := c.ok("restore", "logs", "back").out; !strings.Contains(logs, "configmaps shop-restored/settings: Created") {
		t.Errorf("restore logs:\n%s", logs)
	}
	if out := c.ok("restore", "get").out; !strings.Contains(out, "back") {
		t.Errorf("restore get:\n%s", out)
	}
	c.ok("restore", "delete", "back")
	c.fails(2, `"shop:" in "shop:" is not OLD:NEW`, "restore", "create", "--from-backup", "shop-1", "--namespace-mappings", "shop:")
	c.fails(2, `"Shop_X" in "a:Shop_X" is not a valid name`, "restore", "create", "--from-backup", "shop-1", "--namespace-mappings", "a:Shop_X")
	c.fails(1, `backup "nope" not found in namespace cairn; the backups there are: shop-1`, "restore", "create", "--from-backup", "nope")
}

// Cancel stops a running backup; Ctrl-C while waiting leaves it running.
func TestWaitInterruptAndCancel(t *testing.T) {
	_, c := startCluster(t)
	// Ctrl-C cancels the command's context (main's signal.NotifyContext).
	ctx, ctrlC := context.WithCancel(context.Background())
	defer time.AfterFunc(2*time.Second, ctrlC).Stop()
	r := c.runCtx(ctx, "backup", "create", "slow-1", "--include-namespaces", "shop", "--wait")
	if r.code != 1 || !strings.Contains(r.err, "stopped waiting; backup slow-1 goes on in the cluster") ||
		!strings.Contains(r.err, "cairn backup cancel slow-1") {
		t.Fatalf("interrupted wait:\n%s", r)
	}
	var b v1alpha1.Backup
	decode(t, c.ok("backup", "get", "slow-1", "-o", "json").out, &b)
	if b.Status.Phase.Done() {
		t.Fatalf("the backup ended when only the wait was interrupted: %s", b.Status.Phase)
	}
	testenv.Eventually(t, "the backup to wait for its volume", func() bool {
		decode(t, c.ok("backup", "get", "slow-1", "-o", "json").out, &b)
		return b.Status.Phase == v1alpha1.BackupWaitingForVolumes
	})
	if d := c.ok("backup", "describe", "slow-1").out; !strings.Contains(d, "1.0 MiB of 4.0 MiB (25%), 1.0 MiB/s, ETA 3s") {
		t.Errorf("describe of a running backup lacks its progress:\n%s", d)
	}
	r = c.ok("backup", "cancel", "slow-1", "--wait")
	if !strings.Contains(r.out, `Backup "slow-1" ended Failed`) {
		t.Fatalf("cancel --wait:\n%s", r)
	}
	d := c.ok("backup", "describe", "slow-1").out
	if !strings.Contains(d, "Canceled") || !strings.Contains(d, "canceled by user") {
		t.Fatalf("describe after cancel:\n%s", d)
	}
	c.fails(1, "already ended Failed; there is nothing to cancel", "backup", "cancel", "slow-1")
	c.fails(1, `backup "slow-2" not found in namespace cairn; the backups there are: slow-1`, "backup", "cancel", "slow-2")
}

// A backup that ends PartiallyFailed makes --wait exit 1 with the reason.
func TestWaitFailsOnPartialFailure(t *testing.T) {
	f, c := startCluster(t)
	brokenVolume(t, f)
	c.fails(1, `backup "broken-1" ended PartiallyFailed`, "backup", "create", "broken-1", "--include-namespaces", "broken", "--wait")
	if logs := c.ok("backup", "logs", "broken-1").out; !strings.Contains(logs, "is not provisioned by a CSI driver") {
		t.Fatalf("logs of a partial failure:\n%s", logs)
	}
}

// brokenVolume makes namespace "broken" with a PVC whose volume is not a
// CSI volume, which snapshot-move cannot back up.
func brokenVolume(t *testing.T, f *cptest.Fixture) {
	f.Create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "broken"}})
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "broken-pv"},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/x"}}}}
	f.Create(t, pv)
	f.Create(t, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "broken"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeName: pv.Name,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}})
}

// Schedules: create, get, describe (next runs, retention), pause,
// unpause, a backup from the schedule, delete.
func TestScheduleCommands(t *testing.T) {
	_, c := startCluster(t)
	c.fails(2, `--schedule "61 * * * *"`, "schedule", "create", "bad", "--schedule", "61 * * * *")
	c.ok("schedule", "create", "nightly", "--schedule", "0 3 * * *", "--include-namespaces", "shop", "--keep-daily", "7", "--keep-last", "2")
	var s v1alpha1.Schedule
	decode(t, c.ok("schedule", "get", "nightly", "-o", "json").out, &s)
	if s.Spec.Schedule != "0 3 * * *" || s.Spec.Retention.Daily != 7 || s.Spec.Retention.KeepLast != 2 || s.Spec.Template.IncludedNamespaces[0] != "shop" {
		t.Fatalf("schedule get -o json: %+v", s.Spec)
	}
	r := c.ok("backup", "create", "--from-schedule", "nightly", "--wait")
	if !strings.Contains(r.out, `Backup "nightly-`) || !strings.Contains(r.out, "Completed") {
		t.Fatalf("backup from schedule:\n%s", r)
	}
	c.fails(2, "--include-namespaces cannot be combined with --from-schedule", "backup", "create", "--from-schedule", "nightly", "--include-namespaces", "x")
	d := c.ok("schedule", "describe", "nightly").out
	for _, want := range []string{"Next runs:", "T03:00:00Z", "Retention:", "last=2,daily=7", "kept by retention"} {
		if !strings.Contains(d, want) {
			t.Errorf("schedule describe lacks %q:\n%s", want, d)
		}
	}
	c.ok("schedule", "pause", "nightly")
	decode(t, c.ok("schedule", "get", "nightly", "-o", "json").out, &s)
	if !s.Spec.Paused {
		t.Fatal("pause did not pause")
	}
	if d := c.ok("schedule", "describe", "nightly").out; !strings.Contains(d, "none while paused") {
		t.Errorf("describe of a paused schedule:\n%s", d)
	}
	c.ok("schedule", "unpause", "nightly")
	var unpaused v1alpha1.Schedule
	decode(t, c.ok("schedule", "get", "nightly", "-o", "json").out, &unpaused)
	if unpaused.Spec.Paused {
		t.Fatal("unpause did not unpause")
	}
	if out := c.ok("schedule", "get").out; !strings.Contains(out, "nightly") || !strings.Contains(out, "last=2,daily=7") {
		t.Errorf("schedule get:\n%s", out)
	}
	c.ok("schedule", "delete", "nightly")
	c.fails(1, `schedule "nightly" not found`, "schedule", "describe", "nightly")
}

// Locations: create with Secrets (no secret in any output), get,
// describe, the error for a missing one, delete.
func TestLocationCommands(t *testing.T) {
	f, c := startCluster(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	creds := filepath.Join(dir, "creds")
	writeFile(t, pw, "hunter2-repo-password\n")
	writeFile(t, creds, "[default]\naws_access_key_id = AKIDSECRETKEYID\naws_secret_access_key = s3cr3t-access-key\n")
	c.ok("location", "create", "offsite", "--url", "s3://backups/cairn", "--s3-endpoint", "http://127.0.0.1:9", "--password-file", pw, "--credentials-file", creds)
	var sec corev1.Secret
	if err := f.C.Get(context.Background(), client.ObjectKey{Namespace: cptest.NS, Name: "offsite-s3-credentials"}, &sec); err != nil ||
		string(sec.Data["AWS_SECRET_ACCESS_KEY"]) != "s3cr3t-access-key" {
		t.Fatalf("credentials Secret: %v %v", err, sec.Data != nil)
	}
	var loc v1alpha1.BackupLocation
	decode(t, c.ok("location", "get", "offsite", "-o", "json").out, &loc)
	if loc.Spec.S3 == nil || loc.Spec.S3.Endpoint != "http://127.0.0.1:9" || loc.Spec.CredentialsSecret != "offsite-s3-credentials" {
		t.Fatalf("location get -o json: %+v", loc.Spec)
	}
	d := c.ok("location", "describe", "offsite").out
	if !strings.Contains(d, "Secret offsite-repo-password, key password") || !strings.Contains(d, "Secret offsite-s3-credentials") {
		t.Errorf("location describe:\n%s", d)
	}
	c.ok("location", "describe", "offsite", "-o", "yaml")
	if out := c.ok("location", "get").out; !strings.Contains(out, "offsite") || !strings.Contains(out, "default") {
		t.Errorf("location get:\n%s", out)
	}
	c.fails(1, `location "elsewhere" not found in namespace cairn; the locations there are: default, offsite`,
		"backup", "create", "b1", "--location", "elsewhere")
	loc.Status = v1alpha1.BackupLocationStatus{Phase: v1alpha1.LocationUnavailable, Message: "dial tcp 127.0.0.1:9: connection refused"}
	if err := f.C.Status().Update(context.Background(), &loc); err != nil {
		t.Fatal(err)
	}
	c.fails(1, `location "offsite" is Unavailable: dial tcp 127.0.0.1:9: connection refused; fix it (see `+"`cairn location describe offsite`"+`)`,
		"backup", "create", "b2", "--location", "offsite")
	c.fails(2, `location URL "ftp://x" is not`, "location", "create", "bad", "--url", "ftp://x")
	c.fails(1, `location "offsite" already exists`, "location", "create", "offsite", "--url", "s3://backups/cairn")
	c.ok("location", "delete", "offsite")
	c.fails(1, `location "offsite" not found`, "location", "describe", "offsite")
	// The kept password Secret is reused, and never replaced by another.
	writeFile(t, pw, "another-password\n")
	c.fails(1, "already holds a different repository password", "location", "create", "offsite", "--url", "s3://backups/cairn", "--password-file", pw)
	if r := c.ok("location", "create", "offsite", "--url", "s3://backups/cairn"); !strings.Contains(r.out, "Kept the repository password in Secret cairn/offsite-repo-password") {
		t.Errorf("re-created location:\n%s", r)
	}
	for _, secret := range []string{"hunter2-repo-password", "another-password", "AKIDSECRETKEYID", "s3cr3t-access-key"} {
		if strings.Contains(c.printed(), secret) {
			t.Errorf("a secret value (%s) was printed", secret)
		}
	}
}

// Errors before the cluster is reached, and usage errors.
func TestErrorsWithoutACluster(t *testing.T) {
	c := &cli{t: t, kubeconfig: unreachableKubeconfig(t), namespace: "cairn-system"}
	c.fails(1, "cannot reach the Kubernetes API server https://127.0.0.1:1 (context test)", "backup", "get")
	c.fails(2, `unknown output format "wide"`, "backup", "get", "-o", "wide")
	c.fails(2, "unknown flag: --bogus", "backup", "get", "--bogus")
	c.fails(2, `unknown command "bogus" for "cairn backup"`, "backup", "bogus")
	c.fails(2, "backup create needs a NAME", "backup", "create")
	c.fails(2, `--selector "a in" does not parse`, "backup", "create", "x", "--selector", "a in")
	c.fails(2, `backup name "Bad_Name" is not valid`, "backup", "create", "Bad_Name")
	c.fails(2, "restore create needs --from-backup", "restore", "create")
	c.fails(2, "unknown shell", "completion", "powershell")
	if out := c.ok("completion", "bash").out; !strings.Contains(out, "__cairn") {
		t.Errorf("bash completion:\n%.300s", out)
	}
	c.ok("completion", "zsh")
	c.ok("completion", "fish")
	if out := c.ok("version", "--client").out; !strings.Contains(out, "Client:      cairn ") {
		t.Errorf("version --client: %s", out)
	}
	c.fails(1, "cannot reach the Kubernetes API server", "version")
}

func unreachableKubeconfig(t *testing.T) string {
	return writeKubeconfig(t, &rest.Config{Host: "https://127.0.0.1:1", BearerToken: "t"})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}
