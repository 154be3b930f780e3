package nodeagent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

func TestJournalKeepsRecordsAcrossInstances(t *testing.T) {
	dir := t.TempDir()
	j, err := newJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := &record{Kind: kindBackup, UID: "u1", Name: "b-1", Driver: "d", SnapshotName: "cairn-snap-u1",
		Volume: v1alpha1.VolumeSource{PVC: v1alpha1.ObjectRef{Namespace: "app", Name: "data"}}}
	if err := j.put(rec); err != nil {
		t.Fatal(err)
	}
	rec.SnapshotID = "snap-1"
	if err := j.put(rec); err != nil {
		t.Fatal(err)
	}
	if err := j.put(&record{Kind: kindBase, UID: "u1", SnapshotID: "snap-0"}); err != nil {
		t.Fatal(err)
	}
	// A torn or foreign file is dropped with a problem, never fatal.
	if err := os.WriteFile(filepath.Join(dir, "restore-u9.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, _ := newJournal(dir)
	recs, problems := again.all()
	if len(recs) != 2 || len(problems) != 1 {
		t.Fatalf("records %d (want 2), problems %v (want 1)", len(recs), problems)
	}
	for _, r := range recs {
		if r.Kind == kindBackup && (r.SnapshotID != "snap-1" || r.Volume.PVC.Name != "data") {
			t.Errorf("the backup record reads back as %+v", r)
		}
	}
	if err := again.drop(kindBackup, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := again.drop(kindBackup, "u1"); err != nil {
		t.Fatalf("dropping twice: %v", err)
	}
	if recs, _ := again.all(); len(recs) != 1 || recs[0].Kind != kindBase {
		t.Fatalf("after the drop: %+v", recs)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestMountinfoMatchesEscapedPaths(t *testing.T) {
	info := "36 35 98:0 /mnt1 /var/lib/a\\040b rw,noatime master:1 - ext3 /dev/root rw\n" +
		"37 35 98:0 / /var/lib/kubelet/plugins/cairn.dev/agent/mounts/u1/data/volume ro - ext4 /dev/loop3 ro\n"
	for path, want := range map[string]bool{
		"/var/lib/a b": true,
		"/var/lib/kubelet/plugins/cairn.dev/agent/mounts/u1/data/volume": true,
		"/var/lib/kubelet/plugins/cairn.dev/agent/mounts/u1/data":        false,
	} {
		if got := mountinfoHas(info, path); got != want {
			t.Errorf("mountinfoHas(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestDriverEndpointsDefaultToTheKubeletPluginSocket(t *testing.T) {
	c := Config{KubeletDir: "/var/lib/kubelet", Drivers: map[string]DriverEndpoints{"fast.example": {Controller: "unix:///run/ctl.sock", Node: "unix:///run/node.sock"}}}
	if got := c.endpoints("hostpath.csi.cairn.dev"); got.Controller != "unix:///var/lib/kubelet/plugins/hostpath.csi.cairn.dev/csi.sock" || got.Node != got.Controller {
		t.Errorf("default endpoints %+v", got)
	}
	if got := c.endpoints("fast.example"); got.Controller != "unix:///run/ctl.sock" || got.Node != "unix:///run/node.sock" {
		t.Errorf("configured endpoints %+v", got)
	}
}

func TestConfigNeedsANodeName(t *testing.T) {
	if _, err := (Config{StateDir: "/x"}).withDefaults(); err == nil {
		t.Fatal("an agent without a node name was configured")
	}
	c, err := DefaultConfig("n1").withDefaults()
	if err != nil || c.MaxConcurrent != DefaultMaxConcurrent || c.InstanceID == "" || c.TakeoverAfter <= c.ProgressInterval {
		t.Fatalf("defaults %+v, %v", c, err)
	}
}
