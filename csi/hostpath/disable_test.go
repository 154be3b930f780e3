package hostpath_test

import (
	"context"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairnbackup/cairn/csi/hostpath"
)

// TestDisabledFeatures checks, for each feature switched off, that the
// driver stops reporting it and refuses its RPCs, and that the others
// still work: what `cairn csi check` must report as missing.
func TestDisabledFeatures(t *testing.T) {
	type want struct {
		snapshotCaps, metadataService bool
		snapshotRPCs                  codes.Code // CreateSnapshot
		fromSnapshot                  codes.Code // CreateVolume from a snapshot
		block                         codes.Code // CreateVolume of a block volume
		metadataRPCs                  codes.Code // GetMetadataAllocated
	}
	for _, tc := range []struct {
		feature hostpath.Feature
		want    want
	}{
		{"", want{true, true, codes.OK, codes.OK, codes.OK, codes.OK}},
		{hostpath.FeatureSnapshots, want{false, false, codes.Unimplemented, codes.InvalidArgument, codes.OK, codes.Unimplemented}},
		{hostpath.FeatureVolumeFromSnapshot, want{true, true, codes.OK, codes.InvalidArgument, codes.OK, codes.OK}},
		{hostpath.FeatureBlock, want{true, false, codes.OK, codes.OK, codes.InvalidArgument, codes.Unimplemented}},
		{hostpath.FeatureSnapshotMetadata, want{true, false, codes.OK, codes.OK, codes.OK, codes.Unimplemented}},
	} {
		name := string(tc.feature)
		if name == "" {
			name = "none"
		}
		t.Run(name, func(t *testing.T) {
			var disabled []hostpath.Feature
			if tc.feature != "" {
				disabled = []hostpath.Feature{tc.feature}
			}
			_, c := startDriver(t, hostpath.Config{Disabled: disabled})
			cs := capabilitiesOfClient(t, c)
			got := want{
				snapshotCaps:    cs.controller[csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT] && cs.controller[csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS],
				metadataService: cs.plugin[csi.PluginCapability_Service_SNAPSHOT_METADATA_SERVICE],
			}
			// Snapshots are taken of a filesystem volume, so that they work
			// with block disabled.
			vol := c.createVolume("fs", mountCap(rw), 1<<20, nil)
			snapResp, err := c.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "s", SourceVolumeId: vol.GetVolumeId()})
			got.snapshotRPCs = status.Code(err)
			snapID := snapResp.GetSnapshot().GetSnapshotId()
			if snapID == "" {
				snapID = "snap-0000000000000000"
			}
			_, err = c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "restored", VolumeCapabilities: []*csi.VolumeCapability{mountCap(rw)}, VolumeContentSource: fromSnapshot(snapID)})
			got.fromSnapshot = status.Code(err)
			_, err = c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "blk", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)}})
			got.block = status.Code(err)
			// Asked of an unknown snapshot: NotFound means the service
			// answered, Unimplemented that it is off.
			s, err := c.meta.GetMetadataAllocated(ctx(t), &csi.GetMetadataAllocatedRequest{SnapshotId: "snap-0000000000000000"})
			if err == nil {
				_, err = s.Recv()
			}
			if got.metadataRPCs = status.Code(err); got.metadataRPCs == codes.NotFound {
				got.metadataRPCs = codes.OK
			}
			if got != tc.want {
				t.Fatalf("with %q disabled:\n got %+v\nwant %+v", tc.feature, got, tc.want)
			}
			if tc.feature == hostpath.FeatureSnapshots {
				for name, call := range map[string]func() error{
					"DeleteSnapshot": func() error {
						_, err := c.ctrl.DeleteSnapshot(ctx(t), &csi.DeleteSnapshotRequest{SnapshotId: snapID})
						return err
					},
					"ListSnapshots": func() error { _, err := c.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{}); return err },
					"GetSnapshot": func() error {
						_, err := c.ctrl.GetSnapshot(ctx(t), &csi.GetSnapshotRequest{SnapshotId: snapID})
						return err
					},
				} {
					wantCode(t, call(), codes.Unimplemented, name)
				}
			}
			if tc.feature == hostpath.FeatureBlock {
				v, err := c.ctrl.ValidateVolumeCapabilities(ctx(t), &csi.ValidateVolumeCapabilitiesRequest{
					VolumeId: vol.GetVolumeId(), VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)}})
				if err != nil || v.GetConfirmed() != nil {
					t.Fatalf("ValidateVolumeCapabilities(block) confirmed with block disabled: %v, %v", v, err)
				}
			}
		})
	}
}

func capabilitiesOfClient(t *testing.T, c *client) capabilitySet {
	cs := capabilitySet{plugin: map[csi.PluginCapability_Service_Type]bool{},
		controller: map[csi.ControllerServiceCapability_RPC_Type]bool{}, node: map[csi.NodeServiceCapability_RPC_Type]bool{}}
	pc, err := c.id.GetPluginCapabilities(context.Background(), &csi.GetPluginCapabilitiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range pc.GetCapabilities() {
		cs.plugin[x.GetService().GetType()] = true
	}
	cc, err := c.ctrl.ControllerGetCapabilities(context.Background(), &csi.ControllerGetCapabilitiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range cc.GetCapabilities() {
		cs.controller[x.GetRpc().GetType()] = true
	}
	nc, err := c.node.NodeGetCapabilities(context.Background(), &csi.NodeGetCapabilitiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range nc.GetCapabilities() {
		cs.node[x.GetRpc().GetType()] = true
	}
	return cs
}
