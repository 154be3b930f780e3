package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/cairnbackup/cairn/csi"
)

// run performs the checks in order; later ones build on earlier ones.
func (p *probe) run(ctx context.Context) {
	if !p.probeDriver(ctx) {
		for _, n := range []string{CheckFilesystemMount, CheckBlockMount, CheckSnapshot, CheckVolumeFromSnap, CheckMetadataAlloc, CheckMetadataDelta} {
			p.report.Checks = append(p.report.Checks, Check{Name: n, Result: Fail, Detail: "not run: the driver did not answer its probe"})
		}
		return
	}
	vol := p.filesystemMount(ctx)
	p.blockMount(ctx)
	snap := p.snapshot(ctx, vol)
	p.volumeFromSnapshot(ctx, snap)
	p.metadata(ctx)
}

// probeDriver checks the identity service and learns the capabilities.
func (p *probe) probeDriver(ctx context.Context) bool {
	err := p.node.Probe(ctx)
	if err == nil && p.ctl != p.node {
		err = p.ctl.Probe(ctx)
	}
	var info csi.PluginInfo
	if err == nil {
		info, err = p.ctl.Info(ctx)
	}
	if err == nil {
		p.caps, err = p.ctl.Capabilities(ctx)
	}
	if err == nil && p.ctl != p.node {
		var nc csi.Capabilities
		if nc, err = p.node.Capabilities(ctx); err == nil {
			p.caps.StageUnstage = nc.StageUnstage
		}
	}
	var ni csi.NodeInfo
	if err == nil {
		ni, err = p.node.NodeInfo(ctx)
		p.topo = ni.Topology
	}
	p.report.Driver, p.report.Version = info.Name, info.Version
	return p.add(CheckProbe, err, fmt.Sprintf("%s %s on node %s", info.Name, info.Version, ni.ID))
}

// newVolume creates a scratch volume and schedules its deletion.
func (p *probe) newVolume(ctx context.Context, access csi.AccessType, fromSnapshot string) (csi.Volume, error) {
	p.seq++
	name := fmt.Sprintf("cairn-check-%d-%d", time.Now().UnixNano(), p.seq)
	v, err := p.ctl.CreateVolume(ctx, csi.VolumeRequest{Name: name, CapacityBytes: p.cfg.SizeBytes, Access: access,
		FromSnapshot: fromSnapshot, Secrets: p.cfg.Secrets, Topology: p.topo})
	if err != nil {
		return v, err
	}
	p.later("delete volume "+v.ID, func(ctx context.Context) error { return p.ctl.DeleteVolume(ctx, v.ID, p.cfg.Secrets) })
	return v, nil
}

// mount stages and publishes a volume under the work directory; release
// undoes it at once (and the cleanup skips it then).
func (p *probe) mount(ctx context.Context, v csi.Volume, access csi.AccessType, readOnly bool) (string, func() error, error) {
	p.seq++
	dir := filepath.Join(p.cfg.WorkDir, fmt.Sprintf("m%d", p.seq))
	m := csi.Mounting{VolumeID: v.ID, Access: access, ReadOnly: readOnly, VolumeContext: v.Context,
		StagingPath: filepath.Join(dir, "staging"), TargetPath: filepath.Join(dir, "target")}
	if err := makePaths(m); err != nil {
		return "", nil, err
	}
	done := false
	release := func(ctx context.Context) error {
		if done {
			return nil
		}
		done = true
		err := p.node.Unpublish(ctx, v.ID, m.TargetPath)
		if err == nil && p.caps.StageUnstage {
			err = p.node.Unstage(ctx, v.ID, m.StagingPath)
		}
		if err == nil {
			err = removeEmpty(dir)
		}
		return err
	}
	p.later("unmount volume "+v.ID, release)
	if p.caps.StageUnstage {
		if err := p.node.Stage(ctx, m); err != nil {
			return "", nil, err
		}
	}
	if err := p.node.Publish(ctx, m, p.caps.StageUnstage); err != nil {
		return "", nil, err
	}
	return m.TargetPath, func() error { return release(ctx) }, nil
}

func makePaths(m csi.Mounting) error {
	if err := os.MkdirAll(m.StagingPath, 0o700); err != nil {
		return err
	}
	if m.Access == csi.Block {
		return os.WriteFile(m.TargetPath, nil, 0o600)
	}
	return os.MkdirAll(m.TargetPath, 0o700)
}

// removeEmpty removes the probe's directories without ever recursing
// into one (something may still be mounted there).
func removeEmpty(dir string) error {
	for _, p := range []string{filepath.Join(dir, "target"), filepath.Join(dir, "staging"), dir} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// unsupportedErr reports whether a create failed because the driver does
// not offer what was asked (an access type, a content source).
func unsupportedErr(err error) bool {
	c := csi.Code(err)
	return c == codes.InvalidArgument || c == codes.Unimplemented
}
