package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"
	"golang.org/x/time/rate"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/fsmeta"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/csi"
)

// backupFiles backs up a mounted file system; fresh says it is a snapshot
// mounted anew, whose inodes and change times say nothing.
func (a *Agent) backupFiles(ctx context.Context, j *backupJob, path string, fresh bool) (core.ID, error) {
	j.stats.ReadMode = v1alpha1.ReadFiles
	opts := a.archiveOptions(j)
	opts.Parent = j.parent
	opts.IgnoreInode = fresh && a.cfg.TrustMtime
	return a.archive(ctx, j, path, opts)
}

// backupBlock backs up a block device, reading only what the driver's
// block metadata says holds data or changed.
func (a *Agent) backupBlock(ctx context.Context, j *backupJob, dr *driver, path string, snap csi.Snapshot, sec volumeSecrets) (core.ID, error) {
	mode, ranges := a.blockRanges(ctx, j, dr, snap, sec)
	opts := a.archiveOptions(j)
	opts.Block = true
	if mode != v1alpha1.ReadFull {
		opts.BlockRanges = &archiver.BlockRanges{Ranges: ranges, SinceParent: mode == v1alpha1.ReadChangedBlocks}
	}
	if mode == v1alpha1.ReadChangedBlocks {
		opts.Parent = j.parent
	}
	j.stats.ReadMode = mode
	id, err := a.archive(ctx, j, path, opts)
	if errors.Is(err, archiver.ErrParentUnusable) {
		j.w.warn(fmt.Sprintf("changed-block read impossible, reading the whole volume: %v", err))
		opts.BlockRanges, opts.Parent, j.stats.ReadMode = nil, nil, v1alpha1.ReadFull
		return a.archive(ctx, j, path, opts)
	}
	return id, err
}

// blockRanges asks the driver what to read: the changes since the parent's
// snapshot when both are on this driver, else the allocated ranges, else
// (no metadata service, or it failed) everything.
func (a *Agent) blockRanges(ctx context.Context, j *backupJob, dr *driver, snap csi.Snapshot, sec volumeSecrets) (v1alpha1.ReadMode, []fsmeta.Extent) {
	if !dr.caps.SnapshotMetadata {
		if j.parent != nil {
			j.w.warn(fmt.Sprintf("CSI driver %s offers no SnapshotMetadata service; the incremental reads the whole volume", dr.name))
		}
		return v1alpha1.ReadFull, nil
	}
	if base := a.baseSnapshot(ctx, j, dr, sec); base != "" {
		ranges, err := collectRanges(func(fn csi.Ranges) (int64, error) {
			return dr.controller.Delta(ctx, base, snap.ID, sec.snapshotter, fn)
		})
		if err == nil {
			return v1alpha1.ReadChangedBlocks, ranges
		}
		j.w.warn(fmt.Sprintf("changed blocks since CSI snapshot %s unavailable, reading the whole volume: %v", base, err))
		return v1alpha1.ReadFull, nil
	}
	ranges, err := collectRanges(func(fn csi.Ranges) (int64, error) {
		return dr.controller.Allocated(ctx, snap.ID, sec.snapshotter, fn)
	})
	if err != nil {
		j.w.warn(fmt.Sprintf("allocated ranges of CSI snapshot %s unavailable, reading the whole volume: %v", snap.ID, err))
		return v1alpha1.ReadFull, nil
	}
	return v1alpha1.ReadAllocated, ranges
}

// baseSnapshot is the parent's CSI snapshot when it was kept on this
// driver and still exists there, or "".
func (a *Agent) baseSnapshot(ctx context.Context, j *backupJob, dr *driver, sec volumeSecrets) string {
	if j.parent == nil {
		return ""
	}
	base, driver := tagValue(j.parent, tagCSISnapshot), tagValue(j.parent, tagCSIDriver)
	if base == "" || driver != dr.name {
		j.w.warn("the parent backup kept no CSI snapshot on this driver; the incremental reads the allocated ranges")
		return ""
	}
	if ok, err := dr.snaps.Exists(ctx, base, sec.snapshotter); err != nil || !ok {
		j.w.warn(fmt.Sprintf("the parent's CSI snapshot %s is gone from driver %s; the incremental reads the allocated ranges", base, dr.name))
		return ""
	}
	return base
}

// collectRanges gathers a metadata stream into extents.
func collectRanges(stream func(csi.Ranges) (int64, error)) ([]fsmeta.Extent, error) {
	var out []fsmeta.Extent
	_, err := stream(func(rs []csi.Range) error {
		for _, r := range rs {
			out = append(out, fsmeta.Extent{Offset: r.Offset, Length: r.Length})
		}
		return nil
	})
	return out, err
}

func (a *Agent) archiveOptions(j *backupJob) archiver.Options {
	opts := archiver.Options{Workers: a.cfg.Workers, Uploads: a.cfg.Uploads, Tags: j.tags,
		Hostname: a.cfg.NodeName, Program: "cairn-agent", Progress: &archiver.Progress{}, Resume: j.w.resume}
	if a.cfg.ReadLimit > 0 {
		opts.ReadLimit = rate.NewLimiter(rate.Limit(a.cfg.ReadLimit), int(min(max(a.cfg.ReadLimit, 64<<10), 4<<20)))
	}
	if j.parent != nil {
		id, err := core.ParseID(j.vb.Spec.ParentSnapshotID)
		if err == nil {
			opts.ParentID = &id
		}
	}
	return opts
}

// archive runs the chunkstore pipeline on path and records its figures.
func (a *Agent) archive(ctx context.Context, j *backupJob, path string, opts archiver.Options) (core.ID, error) {
	p := opts.Progress
	j.w.setProgress(func() (int64, int64) { return p.BytesDone.Load(), p.BytesTotal.Load() })
	t0 := a.now()
	res, err := archiver.Backup(ctx, j.repo, []string{path}, opts)
	j.stats.ReadMilliseconds += a.now().Sub(t0).Milliseconds()
	if err != nil {
		return core.ID{}, err
	}
	for _, wr := range res.Warnings {
		j.w.warn(wr.Error())
	}
	st := res.Snapshot.Stats
	j.stats.VolumeBytes, j.stats.BytesRead, j.stats.BytesAdded, j.stats.BytesStored, j.stats.Files =
		st.Bytes, st.BytesRead, st.BytesAdded, st.BytesStored, st.Files
	a.metrics.recordBackup(res)
	return res.ID, nil
}

// fileSystemBackup reads a running pod's volume through the kubelet's
// pod-volume directory. Nothing is snapshotted, so the condition is set
// at once: the freeze would only delay the read.
func (a *Agent) fileSystemBackup(ctx context.Context, j *backupJob) (core.ID, error) {
	path, err := a.podVolumePath(ctx, j.vb.Spec.Volume)
	if err != nil {
		return core.ID{}, err
	}
	if j.block {
		return core.ID{}, fmt.Errorf("the file-system data path reads files, and volume %s is a raw block device; use snapshot-move", j.vb.Spec.Volume.PVName)
	}
	err = j.w.setCondition(ctx, v1alpha1Condition("LiveRead", "file-system data path: the live volume is read, not a point-in-time snapshot"), nil)
	if err != nil {
		return core.ID{}, err
	}
	return a.backupFiles(ctx, j, path, false)
}

// openRepo opens a location's repository for one work item (the key is
// unlocked once per location) and returns the function that releases it.
func (a *Agent) openRepo(ctx context.Context, name string) (*repo.Repository, func(), error) {
	var loc v1alpha1.BackupLocation
	if err := a.reader.Get(ctx, objectKey(a.cfg.Namespace, name), &loc); err != nil {
		return nil, nil, fmt.Errorf("read backup location %s: %w", name, err)
	}
	return a.repos.OpenJob(ctx, &loc)
}

// loadSnapshot reads a repository snapshot by its ID.
func loadSnapshot(ctx context.Context, r *repo.Repository, id string) (*snapshot.Snapshot, error) {
	sid, err := core.ParseID(id)
	if err != nil {
		return nil, fmt.Errorf("snapshot ID %q: %w", id, err)
	}
	b, err := r.LoadFile(ctx, repo.KindSnapshot, sid)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", sid.Short(), err)
	}
	return snapshot.Parse(b)
}

// tagValue returns the value of a k=v tag, or "".
func tagValue(s *snapshot.Snapshot, key string) string {
	for _, t := range s.Tags {
		if v, ok := strings.CutPrefix(t, key+"="); ok {
			return v
		}
	}
	return ""
}

// causeOf sorts an error into the metrics' cause label.
func causeOf(err error) string {
	var re *csi.RPCError
	switch {
	case errors.As(err, &re):
		return "csi"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case strings.Contains(err.Error(), "location"):
		return "repository"
	}
	return "other"
}

// human formats a byte count in binary units.
func human(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }
