package hostpath_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"github.com/kubernetes-csi/csi-test/v5/pkg/sanity"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/cairnbackup/cairn/csi/hostpath"
	"github.com/cairnbackup/cairn/csi/hostpath/hostpathtest"
)

// sanityVariant is one csi-sanity run against its own driver.
type sanityVariant struct {
	name       string
	access     string // sanity's TestVolumeAccessType
	cfg        hostpath.Config
	secretFile bool // pass the driver's secrets on every RPC
}

var sanitySecrets = map[string]string{"token": "sanity-s3cr3t-value"}

// TestSanity runs csi-sanity (kubernetes-csi/csi-test v5) against the
// driver in filesystem mode, in raw block mode through loop devices (or
// image files where the machine has none), in raw block mode through
// image files, and with secrets required. csi-sanity skips a group when
// the driver does not claim its capability; the test fails on any skip
// that the driver's own capabilities do not explain, so a group the
// driver claims can never be skipped silently. (csi-sanity v5.6.0 has no
// SnapshotMetadata group; snapshotmetadata_test.go covers that service.)
func TestSanity(t *testing.T) {
	variants := []sanityVariant{
		{name: "mount", access: "mount"},
		{name: "block", access: "block"},
		{name: "block-image-file", access: "block", cfg: hostpath.Config{Loop: hostpath.LoopOff}},
		{name: "secrets", access: "mount", cfg: hostpath.Config{Secrets: sanitySecrets}, secretFile: true},
	}
	drivers := map[string]*hostpathtest.Driver{}
	configs := make([]sanity.TestConfig, len(variants))
	for i, v := range variants {
		d := hostpathtest.Start(t, v.cfg)
		drivers[v.name] = d
		configs[i] = sanityConfig(t, d, v)
		cfg := &configs[i]
		ginkgo.Describe("["+v.name+"]", func() { sanity.GinkgoTest(cfg) })
	}
	var report ginkgo.Report
	ginkgo.ReportAfterSuite("capture report", func(r ginkgo.Report) { report = r })
	gomega.RegisterFailHandler(ginkgo.Fail)
	suiteCfg, reporterCfg := ginkgo.GinkgoConfiguration()
	reporterCfg.Succinct, reporterCfg.NoColor = true, true
	if !ginkgo.RunSpecs(t, "csi-sanity", suiteCfg, reporterCfg) {
		t.Error("csi-sanity failed")
	}
	checkSanityReport(t, report, variants, drivers)
}

func sanityConfig(t *testing.T, d *hostpathtest.Driver, v sanityVariant) sanity.TestConfig {
	cfg := sanity.NewTestConfig()
	cfg.Address = d.Endpoint
	cfg.TargetPath = filepath.Join(d.Work, "target")
	cfg.StagingPath = filepath.Join(d.Work, "staging")
	cfg.TestVolumeSize = 4 << 20
	cfg.TestVolumeExpandSize = 8 << 20
	cfg.TestVolumeAccessType = v.access
	if v.secretFile {
		cfg.SecretsFile = writeSecretsFile(t, d.Work, v.cfg.Secrets)
	}
	return cfg
}

// writeSecretsFile writes csi-sanity's secrets file with the same map for
// every RPC that carries secrets.
func writeSecretsFile(t *testing.T, dir string, secrets map[string]string) string {
	var b strings.Builder
	for _, field := range []string{
		"CreateVolumeSecret", "DeleteVolumeSecret", "ControllerPublishVolumeSecret", "ControllerUnpublishVolumeSecret",
		"ControllerValidateVolumeCapabilitiesSecret", "NodeStageVolumeSecret", "NodePublishVolumeSecret",
		"CreateSnapshotSecret", "DeleteSnapshotSecret", "ControllerExpandVolumeSecret", "ControllerModifyVolumeSecret",
		"ListSnapshotsSecret", "GetSnapshotSecret",
	} {
		b.WriteString(field + ":\n")
		for k, v := range secrets {
			b.WriteString("  " + k + ": " + v + "\n")
		}
	}
	path := filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// capabilitySet is what a driver reports.
type capabilitySet struct {
	plugin     map[csi.PluginCapability_Service_Type]bool
	controller map[csi.ControllerServiceCapability_RPC_Type]bool
	node       map[csi.NodeServiceCapability_RPC_Type]bool
}

func capabilitiesOf(t *testing.T, d *hostpathtest.Driver) capabilitySet {
	return capabilitiesOfClient(t, newClient(t, d.Conn(t), d.Work))
}

// skipReasons maps each csi-sanity skip message this driver may produce to
// the check that the driver indeed lacks what the skipped group tests.
var skipReasons = map[string]func(capabilitySet) bool{
	"ControllerPublishVolume not supported":                     ctrlLacks(csi.ControllerServiceCapability_RPC_PUBLISH_UNPUBLISH_VOLUME),
	"Controller Publish, UnpublishVolume not supported":         ctrlLacks(csi.ControllerServiceCapability_RPC_PUBLISH_UNPUBLISH_VOLUME),
	"ControllerUnpublishVolume not supported":                   ctrlLacks(csi.ControllerServiceCapability_RPC_PUBLISH_UNPUBLISH_VOLUME),
	"ControllerExpandVolume not supported":                      ctrlLacks(csi.ControllerServiceCapability_RPC_EXPAND_VOLUME),
	"Modify volume not supported":                               ctrlLacks(csi.ControllerServiceCapability_RPC_MODIFY_VOLUME),
	"Modify Volume not supported":                               ctrlLacks(csi.ControllerServiceCapability_RPC_MODIFY_VOLUME),
	"ControllerModifyVolume not supported":                      ctrlLacks(csi.ControllerServiceCapability_RPC_MODIFY_VOLUME),
	"ControllerGetVolumeHealth not supported":                   ctrlLacks(csi.ControllerServiceCapability_RPC_GET_VOLUME_HEALTH),
	"ControllerListVolumeHealth not supported":                  ctrlLacks(csi.ControllerServiceCapability_RPC_LIST_VOLUME_HEALTH),
	"GroupControllerService not supported":                      pluginLacks(csi.PluginCapability_Service_GROUP_CONTROLLER_SERVICE),
	"SNAPSHOT_ACCESSIBILITY_CONSTRAINTS not supported":          pluginLacks(csi.PluginCapability_Service_SNAPSHOT_ACCESSIBILITY_CONSTRAINTS),
	"NodeExpandVolume not supported":                            nodeLacks(csi.NodeServiceCapability_RPC_EXPAND_VOLUME),
	"NodeGetVolumeHealth not supported":                         nodeLacks(csi.NodeServiceCapability_RPC_GET_VOLUME_HEALTH),
	"NodeGetStorageHealth not supported":                        nodeLacks(csi.NodeServiceCapability_RPC_GET_STORAGE_HEALTH),
	"Service does not have single node multi writer capability": nodeLacks(csi.NodeServiceCapability_RPC_SINGLE_NODE_MULTI_WRITER),
}

func ctrlLacks(c csi.ControllerServiceCapability_RPC_Type) func(capabilitySet) bool {
	return func(cs capabilitySet) bool { return !cs.controller[c] }
}

func pluginLacks(c csi.PluginCapability_Service_Type) func(capabilitySet) bool {
	return func(cs capabilitySet) bool { return !cs.plugin[c] }
}

func nodeLacks(c csi.NodeServiceCapability_RPC_Type) func(capabilitySet) bool {
	return func(cs capabilitySet) bool { return !cs.node[c] }
}

// checkSanityReport fails on a skip the driver's capabilities do not
// explain, and on a variant where too little ran; it logs what was
// skipped and why.
func checkSanityReport(t *testing.T, report ginkgo.Report, variants []sanityVariant, drivers map[string]*hostpathtest.Driver) {
	if len(report.SpecReports) == 0 {
		t.Fatal("csi-sanity produced no report")
	}
	passed := map[string]int{}
	skipped := map[string]map[string]int{} // variant -> reason -> count
	for _, r := range report.SpecReports {
		if r.LeafNodeType != types.NodeTypeIt || len(r.ContainerHierarchyTexts) == 0 {
			continue
		}
		variant := strings.Trim(r.ContainerHierarchyTexts[0], "[]")
		switch r.State {
		case types.SpecStatePassed:
			passed[variant]++
		case types.SpecStatePending:
			t.Logf("[%s] pending upstream (disabled in csi-sanity): %s", variant, r.LeafNodeText)
		case types.SpecStateSkipped:
			reason := r.Failure.Message
			lacks, known := skipReasons[reason]
			if !known || !lacks(capabilitiesOf(t, drivers[variant])) {
				t.Errorf("[%s] %q was skipped (%q) although the driver claims what it tests", variant, r.FullText(), reason)
			}
			if skipped[variant] == nil {
				skipped[variant] = map[string]int{}
			}
			skipped[variant][reason]++
		}
	}
	for _, v := range variants {
		// 60 is just under what each variant passes (64 with csi-sanity
		// v5.6.0) and far over what a run that lost a whole service would.
		if passed[v.name] < 60 {
			t.Errorf("[%s] only %d csi-sanity specs passed", v.name, passed[v.name])
		}
		var reasons []string
		for reason, n := range skipped[v.name] {
			reasons = append(reasons, fmt.Sprintf("%s ×%d", reason, n))
		}
		sort.Strings(reasons)
		t.Logf("[%s] %d passed; skipped (capability not claimed): %s", v.name, passed[v.name], strings.Join(reasons, "; "))
	}
}
