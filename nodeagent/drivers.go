package nodeagent

import (
	"context"
	"fmt"
	"sync"

	"github.com/cairnbackup/cairn/csi"
)

// driver is one CSI driver as this agent reaches it: the controller and
// node connections (the same one when both are on one socket), what it
// offers, and this node's topology in its terms.
type driver struct {
	name       string
	controller *csi.Conn
	node       *csi.Conn
	snaps      Snapshotter
	caps       csi.Capabilities
	info       csi.NodeInfo
}

// drivers dials drivers on first use and keeps the connections. A driver
// that fails its probe is not kept, so the next item tries again.
type drivers struct {
	cfg Config
	mu  sync.Mutex
	m   map[string]*driver
}

func newDrivers(cfg Config) *drivers { return &drivers{cfg: cfg, m: map[string]*driver{}} }

// get returns the named driver, dialing and probing it the first time.
func (d *drivers) get(ctx context.Context, name string) (*driver, error) {
	if name == "" {
		return nil, fmt.Errorf("the volume names no CSI driver; only CSI volumes can be snapshotted or restored by the agent")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if dr, ok := d.m[name]; ok {
		return dr, nil
	}
	dr, err := d.dial(ctx, name)
	if err != nil {
		return nil, err
	}
	d.m[name] = dr
	return dr, nil
}

func (d *drivers) dial(ctx context.Context, name string) (*driver, error) {
	ep := d.cfg.endpoints(name)
	conf := d.cfg.CSI
	conf.Driver, conf.Logger = name, d.cfg.Logger
	conf.Endpoint = ep.Controller
	ctl, err := csi.Dial(conf)
	if err != nil {
		return nil, err
	}
	node := ctl
	if ep.Node != ep.Controller {
		conf.Endpoint = ep.Node
		if node, err = csi.Dial(conf); err != nil {
			ctl.Close()
			return nil, err
		}
	}
	dr := &driver{name: name, controller: ctl, node: node, snaps: csiSnapshotter{conn: ctl}}
	if err := dr.probe(ctx); err != nil {
		dr.close()
		return nil, err
	}
	return dr, nil
}

// probe checks both services and learns the capabilities and this node's
// topology.
func (dr *driver) probe(ctx context.Context) error {
	if err := dr.controller.Probe(ctx); err != nil {
		return err
	}
	caps, err := dr.controller.Capabilities(ctx)
	if err != nil {
		return err
	}
	if dr.node != dr.controller {
		if err := dr.node.Probe(ctx); err != nil {
			return err
		}
		nodeCaps, err := dr.node.Capabilities(ctx)
		if err != nil {
			return err
		}
		caps.StageUnstage, caps.NodeServiceReported = nodeCaps.StageUnstage, nodeCaps.NodeServiceReported
	}
	dr.caps = caps
	dr.info, err = dr.node.NodeInfo(ctx)
	return err
}

func (dr *driver) close() {
	dr.controller.Close()
	if dr.node != dr.controller {
		dr.node.Close()
	}
}

// probeAll probes every driver already in use, for the readiness check.
func (d *drivers) probeAll(ctx context.Context) error {
	d.mu.Lock()
	list := make([]*driver, 0, len(d.m))
	for _, dr := range d.m {
		list = append(list, dr)
	}
	d.mu.Unlock()
	for _, dr := range list {
		if err := dr.controller.Probe(ctx); err != nil {
			return err
		}
	}
	return nil
}

// closeAll ends every connection.
func (d *drivers) closeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, dr := range d.m {
		dr.close()
		delete(d.m, name)
	}
}
