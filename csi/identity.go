package csi

import (
	"context"
	"fmt"

	"github.com/container-storage-interface/spec/lib/go/csi"
)

// PluginInfo is what a driver says of itself.
type PluginInfo struct {
	Name, Version string
}

// Capabilities is what a driver offers, gathered from its plugin,
// controller and node capabilities.
type Capabilities struct {
	ControllerService   bool // the plugin serves the controller service
	Topology            bool // volumes are reachable from some nodes only
	SnapshotMetadata    bool // the plugin serves the SnapshotMetadata service
	CreateDeleteVolume  bool
	CreateDeleteSnap    bool
	ListSnapshots       bool
	CloneVolume         bool
	StageUnstage        bool // the node service needs NodeStageVolume
	NodeServiceReported bool // NodeGetCapabilities answered
}

// Probe asks whether the driver is ready. A driver that answers ready=false
// is reported as an error, since nothing can be done with it yet.
func (c *Conn) Probe(ctx context.Context) error {
	resp, err := invoke(ctx, c, "Probe", &csi.ProbeRequest{}, nil, c.id.Probe)
	if err != nil {
		return err
	}
	if r := resp.GetReady(); r != nil && !r.GetValue() {
		return fmt.Errorf("CSI driver %s at %s is not ready yet; wait for its pod to finish starting", c.cfg.Driver, c.cfg.Endpoint)
	}
	return nil
}

// Info returns the driver's name and version.
func (c *Conn) Info(ctx context.Context) (PluginInfo, error) {
	resp, err := invoke(ctx, c, "GetPluginInfo", &csi.GetPluginInfoRequest{}, nil, c.id.GetPluginInfo)
	if err != nil {
		return PluginInfo{}, err
	}
	return PluginInfo{Name: resp.GetName(), Version: resp.GetVendorVersion()}, nil
}

// Capabilities gathers the plugin's, controller's and node's capabilities.
// A driver without a controller service on this endpoint (a node-only
// socket) reports no controller capabilities rather than failing.
func (c *Conn) Capabilities(ctx context.Context) (Capabilities, error) {
	var caps Capabilities
	if err := c.pluginCaps(ctx, &caps); err != nil {
		return caps, err
	}
	if caps.ControllerService {
		if err := c.controllerCaps(ctx, &caps); err != nil && !IsUnimplemented(err) {
			return caps, err
		}
	}
	if err := c.nodeCaps(ctx, &caps); err != nil && !IsUnimplemented(err) {
		return caps, err
	}
	return caps, nil
}

func (c *Conn) pluginCaps(ctx context.Context, caps *Capabilities) error {
	resp, err := invoke(ctx, c, "GetPluginCapabilities", &csi.GetPluginCapabilitiesRequest{}, nil, c.id.GetPluginCapabilities)
	if err != nil {
		return err
	}
	for _, cp := range resp.GetCapabilities() {
		switch cp.GetService().GetType() {
		case csi.PluginCapability_Service_CONTROLLER_SERVICE:
			caps.ControllerService = true
		case csi.PluginCapability_Service_VOLUME_ACCESSIBILITY_CONSTRAINTS:
			caps.Topology = true
		case csi.PluginCapability_Service_SNAPSHOT_METADATA_SERVICE:
			caps.SnapshotMetadata = true
		}
	}
	return nil
}

func (c *Conn) controllerCaps(ctx context.Context, caps *Capabilities) error {
	resp, err := invoke(ctx, c, "ControllerGetCapabilities", &csi.ControllerGetCapabilitiesRequest{}, nil, c.ctl.ControllerGetCapabilities)
	if err != nil {
		return err
	}
	for _, cp := range resp.GetCapabilities() {
		switch cp.GetRpc().GetType() {
		case csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME:
			caps.CreateDeleteVolume = true
		case csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT:
			caps.CreateDeleteSnap = true
		case csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS:
			caps.ListSnapshots = true
		case csi.ControllerServiceCapability_RPC_CLONE_VOLUME:
			caps.CloneVolume = true
		}
	}
	return nil
}

func (c *Conn) nodeCaps(ctx context.Context, caps *Capabilities) error {
	resp, err := invoke(ctx, c, "NodeGetCapabilities", &csi.NodeGetCapabilitiesRequest{}, nil, c.node.NodeGetCapabilities)
	if err != nil {
		return err
	}
	caps.NodeServiceReported = true
	for _, cp := range resp.GetCapabilities() {
		if cp.GetRpc().GetType() == csi.NodeServiceCapability_RPC_STAGE_UNSTAGE_VOLUME {
			caps.StageUnstage = true
		}
	}
	return nil
}
