package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/schedule"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// now is the fixed clock of the golden tests.
var now = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) *metav1.Time { return timePtr(now.Add(d)) }

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

func render(t *testing.T, f func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleBackups() []v1alpha1.Backup {
	done := v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-1", Namespace: "cairn-system", CreationTimestamp: *at(-3 * time.Hour),
			Labels: map[string]string{v1alpha1.LabelLocation: "default"}},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}, TTL: &metav1.Duration{Duration: 72 * time.Hour},
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupPartiallyFailed, StartTime: at(-3 * time.Hour), CompletionTime: at(-3*time.Hour + 95*time.Second),
			Expiration: at(69 * time.Hour), ItemsBackedUp: 42, VolumesTotal: 2, VolumesCompleted: 1, VolumesFailed: 1,
			Progress:            v1alpha1.Progress{BytesDone: 3 << 30, BytesTotal: 3 << 30},
			ResourcesSnapshotID: "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b", ManifestID: "0123456789abcdef0123",
			Warnings: []string{`pod shop/db: post-hook "fsfreeze --unfreeze" exited 1`},
			Errors:   []string{"volume shop/cache was not backed up"},
			VolumeSnapshots: []v1alpha1.VolumeSnapshotRecord{
				{PVC: v1alpha1.ObjectRef{Namespace: "shop", Name: "cache"}, DataPath: v1alpha1.DataPathFileSystem, Phase: v1alpha1.WorkFailed},
				{PVC: v1alpha1.ObjectRef{Namespace: "shop", Name: "data"}, DataPath: v1alpha1.DataPathSnapshotMove, Phase: v1alpha1.WorkCompleted, SnapshotID: "5f3c0c7e9a1b2d4f"},
				{PVC: v1alpha1.ObjectRef{Namespace: "shop", Name: "scratch"}, DataPath: v1alpha1.DataPathSkip}},
			Conditions: []metav1.Condition{
				{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "PartiallyFailed", Message: "42 API objects and 1 of 2 volumes backed up"},
				{Type: v1alpha1.ConditionHooksRun, Status: metav1.ConditionTrue, Reason: "FreezeWindowClosed", Message: "42 API objects stored; 2 volumes snapshotting or moving"}}},
	}
	running := v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly-20261202030000", Namespace: "cairn-system", CreationTimestamp: *at(-90 * time.Second)},
		Spec:       v1alpha1.BackupSpec{LocationName: "offsite"},
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupWaitingForVolumes, StartTime: at(-80 * time.Second), Expiration: at(720 * time.Hour),
			ItemsBackedUp: 310, VolumesTotal: 1, Progress: v1alpha1.Progress{BytesDone: 1 << 30, BytesTotal: 4 << 30, BytesPerSecond: 200 << 20}},
	}
	return []v1alpha1.Backup{done, running}
}

func sampleVolumeBackups() []v1alpha1.VolumeBackup {
	vb := func(pvc, node string, path v1alpha1.DataPath, st v1alpha1.WorkStatus) v1alpha1.VolumeBackup {
		return v1alpha1.VolumeBackup{Spec: v1alpha1.VolumeBackupSpec{NodeName: node, BackupName: "shop-1", DataPath: path,
			Volume: v1alpha1.VolumeSource{PVC: v1alpha1.ObjectRef{Namespace: "shop", Name: pvc}}}, Status: st}
	}
	return []v1alpha1.VolumeBackup{
		vb("cache", "node-b", v1alpha1.DataPathFileSystem, v1alpha1.WorkStatus{Phase: v1alpha1.WorkFailed,
			Message: "no pod mounts the volume on node-b any more", Progress: v1alpha1.Progress{BytesDone: 10 << 20, BytesTotal: 1 << 30}}),
		vb("data", "node-a", v1alpha1.DataPathSnapshotMove, v1alpha1.WorkStatus{Phase: v1alpha1.WorkCompleted, SnapshotID: "5f3c0c7e9a1b2d4f",
			StartTime: at(-3*time.Hour + 5*time.Second), CompletionTime: at(-3*time.Hour + 90*time.Second),
			Progress: v1alpha1.Progress{BytesDone: 3 << 30, BytesTotal: 3 << 30},
			Stats:    v1alpha1.WorkStats{ReadMode: v1alpha1.ReadChangedBlocks, BytesRead: 512 << 20, BytesAdded: 300 << 20, BytesStored: 120 << 20},
			Warnings: []string{"changed-block read of the first 64 MiB fell back to a full read"}}),
	}
}

func TestGoldenBackupTable(t *testing.T) {
	golden(t, "backup_get", render(t, func(b *bytes.Buffer) error { return backupTable(b, now, sampleBackups()) }))
}

func TestGoldenBackupDescribe(t *testing.T) {
	bs := sampleBackups()
	golden(t, "backup_describe", render(t, func(b *bytes.Buffer) error { return describeBackup(b, now, &bs[0], sampleVolumeBackups()) }))
	golden(t, "backup_describe_running", render(t, func(b *bytes.Buffer) error { return describeBackup(b, now, &bs[1], nil) }))
}

func sampleRestore() (v1alpha1.Restore, []v1alpha1.VolumeRestore) {
	rs := v1alpha1.Restore{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-1-20261202095500", Namespace: "cairn-system", CreationTimestamp: *at(-5 * time.Minute)},
		Spec: v1alpha1.RestoreSpec{BackupName: "shop-1", NamespaceMapping: map[string]string{"shop": "shop-restored"},
			StorageClassMapping: map[string]string{"fast": "standard"}, ExistingResourcePolicy: v1alpha1.ExistingUpdate},
		Status: v1alpha1.RestoreStatus{Phase: v1alpha1.RestoreCompleted, StartTime: at(-5 * time.Minute), CompletionTime: at(-2 * time.Minute),
			Counts: v1alpha1.RestoreCounts{Created: 3, Skipped: 1}, VolumesTotal: 1, VolumesCompleted: 1,
			Progress: v1alpha1.Progress{BytesDone: 3 << 30, BytesTotal: 3 << 30},
			Items: []v1alpha1.RestoreItem{
				{Resource: "namespaces", Name: "shop-restored", Result: v1alpha1.ItemCreated},
				{Resource: "configmaps", Namespace: "shop-restored", Name: "settings", Result: v1alpha1.ItemCreated},
				{Resource: "persistentvolumeclaims", Namespace: "shop-restored", Name: "data", Result: v1alpha1.ItemCreated},
				{Resource: "serviceaccounts", Namespace: "shop-restored", Name: "default", Result: v1alpha1.ItemSkipped, Message: "already exists"}}},
	}
	vr := v1alpha1.VolumeRestore{Spec: v1alpha1.VolumeRestoreSpec{NodeName: "node-a", RestoreName: rs.Name, SnapshotID: "5f3c0c7e9a1b2d4f",
		DataPath: v1alpha1.DataPathSnapshotMove, Target: v1alpha1.VolumeSource{PVC: v1alpha1.ObjectRef{Namespace: "shop-restored", Name: "data"}}},
		Status: v1alpha1.WorkStatus{Phase: v1alpha1.WorkCompleted, Progress: v1alpha1.Progress{BytesDone: 3 << 30, BytesTotal: 3 << 30}}}
	return rs, []v1alpha1.VolumeRestore{vr}
}

func TestGoldenRestore(t *testing.T) {
	rs, vrs := sampleRestore()
	golden(t, "restore_get", render(t, func(b *bytes.Buffer) error { return restoreTable(b, now, []v1alpha1.Restore{rs}) }))
	golden(t, "restore_describe", render(t, func(b *bytes.Buffer) error { return describeRestore(b, now, &rs, vrs) }))
}

func TestGoldenSchedule(t *testing.T) {
	s := v1alpha1.Schedule{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: "cairn-system", CreationTimestamp: *at(-30 * 24 * time.Hour)},
		Spec: v1alpha1.ScheduleSpec{Schedule: "0 3 * * *", Template: v1alpha1.BackupSpec{IncludedNamespaces: []string{"shop"}},
			Retention: v1alpha1.Retention{KeepLast: 1, Daily: 2}},
		Status: v1alpha1.ScheduleStatus{LastScheduleTime: at(-7 * time.Hour), NextScheduleTime: at(17 * time.Hour), LastBackupName: "nightly-20261202030000",
			LastSuccessfulBackupTime: at(-7*time.Hour + 2*time.Minute),
			Conditions:               []metav1.Condition{{Type: v1alpha1.ConditionValid, Status: metav1.ConditionTrue, Reason: "Scheduled", Message: `Backups are made on "0 3 * * *"`}}},
	}
	var backups []v1alpha1.Backup
	for i, phase := range []v1alpha1.BackupPhase{v1alpha1.BackupCompleted, v1alpha1.BackupCompleted, v1alpha1.BackupFailed, v1alpha1.BackupCompleted, v1alpha1.BackupCompleted} {
		slot := time.Date(2026, 12, 2-i, 3, 0, 0, 0, time.UTC)
		backups = append(backups, v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: schedule.BackupName("nightly", slot),
			Annotations: map[string]string{schedule.AnnotationScheduledFor: slot.Format(time.RFC3339)}},
			Status: v1alpha1.BackupStatus{Phase: phase}})
	}
	golden(t, "schedule_get", render(t, func(b *bytes.Buffer) error { return scheduleTable(b, now, []v1alpha1.Schedule{s}) }))
	golden(t, "schedule_describe", render(t, func(b *bytes.Buffer) error { return describeSchedule(b, now, &s, backups) }))
}

func TestGoldenLocation(t *testing.T) {
	ok := v1alpha1.BackupLocation{
		ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "cairn-system", CreationTimestamp: *at(-48 * time.Hour)},
		Spec: v1alpha1.BackupLocationSpec{URL: "s3://backups/cairn", S3: &v1alpha1.S3Options{Endpoint: "https://minio.example:9000", PathStyle: true},
			CredentialsSecret: "default-s3-credentials", PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "default-repo-password", Key: "password"}},
		Status: v1alpha1.BackupLocationStatus{Phase: v1alpha1.LocationAvailable, RepositoryID: "c0ffee00c0ffee00c0ffee00",
			LastValidationTime: at(-30 * time.Second), LastMaintenanceTime: at(-7 * time.Hour),
			Conditions: []metav1.Condition{{Type: v1alpha1.ConditionAvailable, Status: metav1.ConditionTrue, Reason: "Validated", Message: "the repository answers"}}},
	}
	down := v1alpha1.BackupLocation{
		ObjectMeta: metav1.ObjectMeta{Name: "offsite", Namespace: "cairn-system", CreationTimestamp: *at(-2 * time.Hour)},
		Spec: v1alpha1.BackupLocationSpec{URL: "file:///srv/cairn", AccessMode: v1alpha1.AccessReadOnly,
			PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "offsite-repo-password", Key: "password"}},
		Status: v1alpha1.BackupLocationStatus{Phase: v1alpha1.LocationUnavailable, LastValidationTime: at(-10 * time.Second),
			Message: "Secret cairn-system/offsite-repo-password does not exist; create it"},
	}
	golden(t, "location_get", render(t, func(b *bytes.Buffer) error { return locationTable(b, now, []v1alpha1.BackupLocation{ok, down}) }))
	golden(t, "location_describe", render(t, func(b *bytes.Buffer) error { return describeLocation(b, now, &ok, 12) }))
	golden(t, "location_describe_unavailable", render(t, func(b *bytes.Buffer) error { return describeLocation(b, now, &down, 0) }))
}
