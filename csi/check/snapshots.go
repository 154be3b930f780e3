package check

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairnbackup/cairn/csi"
)

// snapshot cuts a snapshot of the file volume holding the pattern.
func (p *probe) snapshot(ctx context.Context, vol string) string {
	switch {
	case !p.caps.CreateDeleteSnap:
		p.unsupported(CheckSnapshot, "the driver does not cut snapshots (no CREATE_DELETE_SNAPSHOT)")
		return ""
	case vol == "":
		p.report.Checks = append(p.report.Checks, Check{Name: CheckSnapshot, Result: Fail, Detail: "not run: no volume to snapshot (see " + CheckFilesystemMount + ")"})
		return ""
	}
	s, err := p.cut(ctx, vol)
	if !p.add(CheckSnapshot, err, "snapshot "+s.ID+" of volume "+vol+" is ready") {
		return ""
	}
	return s.ID
}

// cut snapshots a volume, schedules its deletion and waits until ready.
func (p *probe) cut(ctx context.Context, vol string) (csi.Snapshot, error) {
	p.seq++
	name := fmt.Sprintf("cairn-check-%d-%d", time.Now().UnixNano(), p.seq)
	s, err := p.ctl.CreateSnapshot(ctx, csi.SnapshotRequest{Name: name, SourceVolumeID: vol, Secrets: p.cfg.Secrets})
	if err != nil {
		return s, err
	}
	p.later("delete snapshot "+s.ID, func(ctx context.Context) error { return p.ctl.DeleteSnapshot(ctx, s.ID, p.cfg.Secrets) })
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return p.ctl.WaitSnapshotReady(wctx, s, p.cfg.Secrets, 500*time.Millisecond)
}

// volumeFromSnapshot creates a volume from the snapshot and reads the
// pattern from it.
func (p *probe) volumeFromSnapshot(ctx context.Context, snap string) {
	switch {
	case !p.caps.CreateDeleteSnap:
		p.unsupported(CheckVolumeFromSnap, "the driver does not cut snapshots")
		return
	case snap == "":
		p.report.Checks = append(p.report.Checks, Check{Name: CheckVolumeFromSnap, Result: Fail, Detail: "not run: no snapshot (see " + CheckSnapshot + ")"})
		return
	}
	v, err := p.newVolume(ctx, csi.Mount, snap)
	if unsupportedErr(err) {
		p.unsupported(CheckVolumeFromSnap, "the driver refuses volumes from snapshots: "+err.Error())
		return
	}
	if err == nil {
		err = p.readFileVolume(ctx, v, false)
	}
	p.add(CheckVolumeFromSnap, err, "volume "+v.ID+" from snapshot "+snap+" holds the pattern")
}

// metadata checks the SnapshotMetadata service: the allocated ranges of a
// snapshot of a block volume cover what was written, and the delta between
// two snapshots covers what changed between them.
func (p *probe) metadata(ctx context.Context) {
	if !p.caps.SnapshotMetadata {
		p.unsupported(CheckMetadataAlloc, "the driver serves no SnapshotMetadata service")
		p.unsupported(CheckMetadataDelta, "the driver serves no SnapshotMetadata service")
		return
	}
	base, target, err := p.twoBlockSnapshots(ctx)
	if err != nil {
		p.add(CheckMetadataAlloc, err, "")
		p.add(CheckMetadataDelta, errors.New("not run: the snapshots could not be made"), "")
		return
	}
	first := []csi.Range{{Offset: 0, Length: patternBlock}, {Offset: p.cfg.SizeBytes / 4, Length: patternBlock}}
	got, err := collect(func(fn csi.Ranges) (int64, error) { return p.ctl.Allocated(ctx, base, p.cfg.Secrets, fn) })
	if err == nil {
		err = covers(got, first)
	}
	p.add(CheckMetadataAlloc, err, fmt.Sprintf("%d of %d bytes reported allocated", total(got), p.cfg.SizeBytes))
	changed := []csi.Range{{Offset: p.cfg.SizeBytes / 2, Length: patternBlock}}
	got, err = collect(func(fn csi.Ranges) (int64, error) { return p.ctl.Delta(ctx, base, target, p.cfg.Secrets, fn) })
	if err == nil {
		err = covers(got, changed)
	}
	p.add(CheckMetadataDelta, err, fmt.Sprintf("%d bytes reported changed of %d rewritten", total(got), patternBlock))
}

// twoBlockSnapshots writes two blocks to a new block volume, snapshots
// it, rewrites a third and snapshots it again.
func (p *probe) twoBlockSnapshots(ctx context.Context) (string, string, error) {
	v, err := p.newVolume(ctx, csi.Block, "")
	if err != nil {
		return "", "", err
	}
	if err := p.writeBlocks(ctx, v, []int64{0, p.cfg.SizeBytes / 4}, 10); err != nil {
		return "", "", err
	}
	s1, err := p.cut(ctx, v.ID)
	if err != nil {
		return "", "", err
	}
	if err := p.writeBlocks(ctx, v, []int64{p.cfg.SizeBytes / 2}, 20); err != nil {
		return "", "", err
	}
	s2, err := p.cut(ctx, v.ID)
	return s1.ID, s2.ID, err
}

func collect(stream func(csi.Ranges) (int64, error)) ([]csi.Range, error) {
	var out []csi.Range
	_, err := stream(func(rs []csi.Range) error {
		out = append(out, rs...)
		return nil
	})
	return out, err
}

// covers checks that every want range lies inside the reported ranges.
func covers(got, want []csi.Range) error {
	for _, w := range want {
		inside := false
		for _, g := range got {
			if g.Offset <= w.Offset && w.End() <= g.End() {
				inside = true
			}
		}
		if !inside {
			return fmt.Errorf("the written range at %d (%d bytes) is not reported; the metadata would lose data", w.Offset, w.Length)
		}
	}
	return nil
}

func total(rs []csi.Range) int64 {
	var n int64
	for _, r := range rs {
		n += r.Length
	}
	return n
}
