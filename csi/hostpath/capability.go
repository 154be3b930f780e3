package hostpath

import (
	"errors"
	"fmt"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// capInfo is what the driver needs from a VolumeCapability.
type capInfo struct {
	kind         accessKind
	readerOnly   bool // the access mode allows no writer
	singleWriter bool // SINGLE_NODE_SINGLE_WRITER: one publication at a time
}

// parseCapability checks one capability. Every single-node access mode is
// supported; multi-node modes are not, because a volume lives on one
// node's disk.
func (d *Driver) parseCapability(c *csi.VolumeCapability) (capInfo, error) {
	if c == nil {
		return capInfo{}, errors.New("volume capability is missing")
	}
	var ci capInfo
	switch c.GetAccessType().(type) {
	case *csi.VolumeCapability_Mount:
		ci.kind = kindFilesystem
	case *csi.VolumeCapability_Block:
		if !d.enabled(FeatureBlock) {
			return capInfo{}, errors.New("the block access type is not supported by this driver (disabled)")
		}
		ci.kind = kindBlock
	default:
		return capInfo{}, errors.New("volume capability has no access type (mount or block)")
	}
	switch m := c.GetAccessMode().GetMode(); m {
	case csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER, csi.VolumeCapability_AccessMode_SINGLE_NODE_MULTI_WRITER:
	case csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY:
		ci.readerOnly = true
	case csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER:
		ci.singleWriter = true
	default:
		return capInfo{}, fmt.Errorf("access mode %v is not supported: volumes are reachable from a single node", m)
	}
	return ci, nil
}

// parseCapabilities checks a CreateVolume or ValidateVolumeCapabilities
// list: all entries must agree on the access type, and the volume is
// reader-only when every mode is.
func (d *Driver) parseCapabilities(caps []*csi.VolumeCapability) (kind accessKind, readerOnly bool, err error) {
	if len(caps) == 0 {
		return "", false, errors.New("volume capabilities are missing")
	}
	readerOnly = true
	for i, c := range caps {
		ci, err := d.parseCapability(c)
		if err != nil {
			return "", false, err
		}
		if i > 0 && ci.kind != kind {
			return "", false, errors.New("volume capabilities mix the block and mount access types")
		}
		kind = ci.kind
		readerOnly = readerOnly && ci.readerOnly
	}
	return kind, readerOnly, nil
}

// fitsVolume checks a capability against an existing volume.
func fitsVolume(ci capInfo, v *volumeRecord) error {
	if ci.kind != v.Kind {
		return fmt.Errorf("volume %s is a %s volume, not %s", v.ID, v.Kind, ci.kind)
	}
	if v.ReadOnly && !ci.readerOnly {
		return fmt.Errorf("volume %s was created for reader-only access modes and cannot be used by a writer", v.ID)
	}
	return nil
}

// topologyMatches reports whether t names this node.
func (d *Driver) topologyMatches(t *csi.Topology) bool {
	seg := t.GetSegments()
	return len(seg) == 1 && seg[TopologyKey] == d.cfg.NodeID
}

func (d *Driver) topology() []*csi.Topology {
	return []*csi.Topology{{Segments: map[string]string{TopologyKey: d.cfg.NodeID}}}
}

// checkTopology fails when a requisite topology is given and this node is
// not in it; preferred topologies need no check with a single choice.
func (d *Driver) checkTopology(req *csi.TopologyRequirement) error {
	if len(req.GetRequisite()) == 0 {
		return nil
	}
	for _, t := range req.GetRequisite() {
		if d.topologyMatches(t) {
			return nil
		}
	}
	return status.Errorf(codes.ResourceExhausted, "requisite topology does not include this driver's node %s=%s", TopologyKey, d.cfg.NodeID)
}

// claim marks key busy for one operation. A second operation on the same
// name or path while the first runs gets Aborted, the spec's answer to
// concurrent calls for one object; the CO retries it.
func (d *Driver) claim(key string) (release func(), err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy[key] {
		return nil, status.Errorf(codes.Aborted, "an operation on %s is already in progress", key)
	}
	d.busy[key] = true
	return func() {
		d.mu.Lock()
		delete(d.busy, key)
		d.mu.Unlock()
	}, nil
}

// unpin ends a read of a volume's or snapshot's data.
func (d *Driver) unpin(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pins[id]--; d.pins[id] <= 0 {
		delete(d.pins, id)
	}
}

// saveLocked writes the state file; d.mu must be held. Callers undo their
// in-memory change when it fails, so memory never runs ahead of disk.
func (d *Driver) saveLocked() error {
	return d.st.save(d.lay.stateFile())
}

func invalid(err error) error { return status.Error(codes.InvalidArgument, err.Error()) }

func internal(err error) error { return status.Error(codes.Internal, err.Error()) }
