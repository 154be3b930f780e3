package check_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/cairnbackup/cairn/csi/check"
	"github.com/cairnbackup/cairn/csi/hostpath"
	"github.com/cairnbackup/cairn/csi/hostpath/hostpathtest"
)

func run(t *testing.T, d *hostpathtest.Driver, secrets map[string]string) *check.Report {
	t.Helper()
	rep, err := check.Run(context.Background(), check.Config{Endpoint: d.Endpoint, WorkDir: d.Work, SizeBytes: 8 << 20, Secrets: secrets})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if !d.Inventory().Empty() {
		t.Errorf("the probe left objects on the driver: %+v", d.Inventory())
	}
	if len(rep.Cleanup) > 0 {
		t.Errorf("cleanup problems: %v", rep.Cleanup)
	}
	return rep
}

func results(rep *check.Report) map[string]check.Check {
	out := map[string]check.Check{}
	for _, c := range rep.Checks {
		out[c.Name] = c
	}
	return out
}

var all = []string{check.CheckProbe, check.CheckFilesystemMount, check.CheckBlockMount, check.CheckSnapshot,
	check.CheckVolumeFromSnap, check.CheckMetadataAlloc, check.CheckMetadataDelta}

func TestReferenceDriverPassesEveryCheck(t *testing.T) {
	const secret = "vendor-token-1234"
	d := hostpathtest.Start(t, hostpath.Config{Secrets: map[string]string{"token": secret}})
	rep := run(t, d, map[string]string{"token": secret})
	got := results(rep)
	for _, name := range all {
		if got[name].Result != check.Pass {
			t.Errorf("%s: %s (%s %s %s)", name, got[name].Result, got[name].RPC, got[name].Error, got[name].Detail)
		}
	}
	if !rep.OK() || rep.Driver != hostpath.DefaultDriverName {
		t.Errorf("report: ok %v, driver %q", rep.OK(), rep.Driver)
	}
}

func TestMissingCapabilitiesAreReportedUnsupported(t *testing.T) {
	cases := []struct {
		name    string
		disable []hostpath.Feature
		want    map[string]check.Result
	}{
		{"no snapshot metadata", []hostpath.Feature{hostpath.FeatureSnapshotMetadata},
			map[string]check.Result{check.CheckMetadataAlloc: check.Unsupported, check.CheckMetadataDelta: check.Unsupported, check.CheckSnapshot: check.Pass, check.CheckBlockMount: check.Pass}},
		{"no block", []hostpath.Feature{hostpath.FeatureBlock, hostpath.FeatureSnapshotMetadata},
			map[string]check.Result{check.CheckBlockMount: check.Unsupported, check.CheckFilesystemMount: check.Pass}},
		{"no snapshots", []hostpath.Feature{hostpath.FeatureSnapshots},
			map[string]check.Result{check.CheckSnapshot: check.Unsupported, check.CheckVolumeFromSnap: check.Unsupported,
				check.CheckMetadataAlloc: check.Unsupported, check.CheckBlockMount: check.Pass}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := hostpathtest.Start(t, hostpath.Config{Disabled: tc.disable})
			got := results(run(t, d, nil))
			for name, want := range tc.want {
				if got[name].Result != want {
					t.Errorf("%s: %s, want %s (%s)", name, got[name].Result, want, got[name].Detail+got[name].Error)
				}
			}
		})
	}
}

func TestFailingRPCIsNamedAndCleanedUp(t *testing.T) {
	d := hostpathtest.Start(t, hostpath.Config{})
	if err := d.SetFault("NodePublishVolume", codes.Internal, "mount table full"); err != nil {
		t.Fatal(err)
	}
	rep := run(t, d, nil)
	c := results(rep)[check.CheckFilesystemMount]
	if c.Result != check.Fail || c.RPC != "NodePublishVolume" || c.Error == "" {
		t.Fatalf("filesystem-mount: %+v, want a failure naming NodePublishVolume", c)
	}
	if rep.OK() {
		t.Error("a failed check left the report OK")
	}
}
