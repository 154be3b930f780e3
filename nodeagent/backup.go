package nodeagent

import (
	"context"
	"errors"
	"fmt"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/csi"
)

// Tags the agent adds to the repository snapshots it writes.
const (
	tagWorkItem    = "work-item"
	tagCSIDriver   = "csi-driver"
	tagCSISnapshot = "csi-snapshot"
	tagNode        = "node"
	tagVolumeMode  = "volume-mode"
)

// backupJob is what one VolumeBackup needs while it runs.
type backupJob struct {
	w      *work
	vb     *v1alpha1.VolumeBackup
	repo   *repo.Repository
	done   func() // releases repo
	parent *snapshot.Snapshot
	block  bool
	tags   []string
	stats  v1alpha1.WorkStats
}

// runBackup executes a VolumeBackup by its data path.
func (a *Agent) runBackup(ctx context.Context, w *work) outcome {
	vb := w.obj.(*v1alpha1.VolumeBackup)
	start := a.now()
	j, err := a.prepareBackup(ctx, w, vb)
	var id core.ID
	if err == nil {
		defer j.done()
		switch vb.Spec.DataPath {
		case v1alpha1.DataPathSnapshotMove:
			id, err = a.snapshotMove(ctx, j)
		case v1alpha1.DataPathFileSystem:
			id, err = a.fileSystemBackup(ctx, j)
		default:
			err = fmt.Errorf("data path %q moves no data; the controller should not have created this item", vb.Spec.DataPath)
		}
	}
	if err != nil {
		a.metrics.errors.WithLabelValues(causeOf(err)).Inc()
		return outcome{phase: v1alpha1.WorkFailed, message: backupFailure(vb, err)}
	}
	j.stats.DurationMilliseconds = a.now().Sub(start).Milliseconds()
	return outcome{phase: v1alpha1.WorkCompleted, snapshotID: id.String(), stats: j.stats,
		message: fmt.Sprintf("backed up %s of %s (%s read) into snapshot %s", human(j.stats.BytesAdded), human(j.stats.VolumeBytes),
			j.stats.ReadMode, id.Short())}
}

func backupFailure(vb *v1alpha1.VolumeBackup, err error) string {
	return fmt.Sprintf("back up volume %s/%s (%s): %v", vb.Spec.Volume.PVC.Namespace, vb.Spec.Volume.PVC.Name, vb.Spec.Volume.PVName, err)
}

// prepareBackup opens the item's repository and loads its parent.
func (a *Agent) prepareBackup(ctx context.Context, w *work, vb *v1alpha1.VolumeBackup) (*backupJob, error) {
	r, done, err := a.openRepo(ctx, vb.Spec.LocationName)
	if err != nil {
		return nil, err
	}
	j := &backupJob{w: w, vb: vb, repo: r, done: done, block: vb.Spec.Volume.VolumeMode == "Block"}
	if vb.Spec.ParentSnapshotID != "" {
		if j.parent, err = loadSnapshot(ctx, r, vb.Spec.ParentSnapshotID); err != nil {
			w.warn(fmt.Sprintf("parent snapshot %s is unreadable, backing up without it: %v", vb.Spec.ParentSnapshotID, err))
			j.parent = nil
		}
	}
	j.tags = snapshotTags(vb, a.cfg.NodeName, j.block)
	return j, nil
}

func snapshotTags(vb *v1alpha1.VolumeBackup, node string, block bool) []string {
	var tags []string
	for k, v := range vb.Spec.Tags {
		tags = append(tags, k+"="+v)
	}
	mode := "filesystem"
	if block {
		mode = "block"
	}
	return append(tags, tagWorkItem+"="+string(vb.UID), tagNode+"="+node, tagVolumeMode+"="+mode)
}

// snapshotMove cuts the snapshot, reads it through a temporary volume and
// cleans up after itself, whatever happens.
func (a *Agent) snapshotMove(ctx context.Context, j *backupJob) (core.ID, error) {
	vol := j.vb.Spec.Volume
	dr, err := a.drivers.get(ctx, vol.CSIDriver)
	if err != nil {
		return core.ID{}, err
	}
	if !dr.caps.CreateDeleteSnap {
		return core.ID{}, fmt.Errorf("CSI driver %s cannot cut snapshots; annotate the PVC with %s=file-system to read it through its pod instead",
			dr.name, v1alpha1.AnnotationVolumePolicy)
	}
	sc, err := a.storageClass(ctx, vol.StorageClassName)
	if err != nil {
		return core.ID{}, err
	}
	sec, err := a.secretsFor(ctx, vol, sc)
	if err != nil {
		return core.ID{}, err
	}
	j.w.rec.Driver, j.w.rec.StorageClass, j.w.rec.Volume = dr.name, vol.StorageClassName, vol
	keep := false
	defer func() { a.cleanup(j.w, dr, sec, keep) }()
	snap, err := a.cutSnapshot(ctx, j, dr, sec)
	if err != nil {
		return core.ID{}, err
	}
	target, err := a.mountSnapshot(ctx, j, dr, sc, sec, snap)
	if err != nil {
		return core.ID{}, err
	}
	var id core.ID
	if j.block {
		keep = a.keepsBase(dr)
		if keep {
			j.tags = append(j.tags, tagCSIDriver+"="+dr.name, tagCSISnapshot+"="+snap.ID)
		}
		id, err = a.backupBlock(ctx, j, dr, target, snap, sec)
	} else {
		id, err = a.backupFiles(ctx, j, target, true)
	}
	if err != nil {
		keep = false
		return core.ID{}, err
	}
	if keep {
		a.replaceBase(ctx, j, dr, snap, sec)
	}
	return id, nil
}

// keepsBase reports whether this driver's snapshots are kept as the base
// of the next changed-block incremental.
func (a *Agent) keepsBase(dr *driver) bool {
	return a.cfg.KeepBaseSnapshots && dr.caps.SnapshotMetadata
}

// cutSnapshot snapshots the volume and tells the controller at once, so
// the application is thawed before any data is read.
func (a *Agent) cutSnapshot(ctx context.Context, j *backupJob, dr *driver, sec volumeSecrets) (csi.Snapshot, error) {
	vol := j.vb.Spec.Volume
	j.w.rec.SnapshotName, j.w.rec.SnapshotSource = snapshotName(j.w.rec.UID), vol.VolumeHandle
	if err := a.journal.put(j.w.rec); err != nil {
		return csi.Snapshot{}, err
	}
	t0 := a.now()
	snap, err := dr.snaps.Cut(ctx, csi.SnapshotRequest{Name: j.w.rec.SnapshotName, SourceVolumeID: vol.VolumeHandle, Secrets: sec.snapshotter})
	if err != nil {
		cerr := j.w.setCondition(ctx, metav1.Condition{Type: v1alpha1.ConditionSnapshotTaken, Status: metav1.ConditionFalse,
			Reason: "SnapshotFailed", Message: err.Error()}, nil)
		if cerr != nil {
			return csi.Snapshot{}, errors.Join(err, cerr)
		}
		return csi.Snapshot{}, fmt.Errorf("snapshot volume %s: %w", vol.VolumeHandle, err)
	}
	j.w.rec.SnapshotID = snap.ID
	if err := a.journal.put(j.w.rec); err != nil {
		return snap, err
	}
	a.metrics.snapshotSeconds.Observe(a.now().Sub(t0).Seconds())
	err = j.w.setCondition(ctx, metav1.Condition{Type: v1alpha1.ConditionSnapshotTaken, Status: metav1.ConditionTrue,
		Reason: "Cut", Message: fmt.Sprintf("CSI snapshot %s of volume %s cut by %s", snap.ID, vol.VolumeHandle, dr.name)},
		func(st *v1alpha1.WorkStatus) { st.CSISnapshotID = snap.ID })
	if err != nil {
		return snap, err
	}
	return dr.snaps.WaitReady(ctx, snap, sec.snapshotter)
}

// mountSnapshot creates a temporary volume from the snapshot and publishes
// it read-only; it returns the path to read.
func (a *Agent) mountSnapshot(ctx context.Context, j *backupJob, dr *driver, sc *storagev1.StorageClass, sec volumeSecrets, snap csi.Snapshot) (string, error) {
	vol := j.vb.Spec.Volume
	access := accessOf(j.block)
	capacity := snap.SizeBytes
	if vol.Capacity != nil {
		capacity = max(capacity, vol.Capacity.Value())
	}
	j.w.rec.VolumeName = tempVolumeName(j.w.rec.UID)
	if err := a.journal.put(j.w.rec); err != nil {
		return "", err
	}
	tv, err := dr.controller.CreateVolume(ctx, csi.VolumeRequest{Name: j.w.rec.VolumeName, CapacityBytes: capacity, Access: access,
		FromSnapshot: snap.ID, Parameters: driverParameters(sc), Secrets: sec.provisioner, Topology: dr.info.Topology, ReaderOnly: true})
	if err != nil {
		return "", fmt.Errorf("create a temporary volume from snapshot %s: %w", snap.ID, err)
	}
	j.w.rec.VolumeID = tv.ID
	if err := a.journal.put(j.w.rec); err != nil {
		return "", err
	}
	m := csi.Mounting{VolumeID: tv.ID, Access: access, ReadOnly: true, ReaderOnly: true, VolumeContext: tv.Context,
		StageSecrets: sec.nodeStage, PublishSecret: sec.nodePublish}
	mt, err := a.publish(ctx, j.w, dr, m, "volume")
	if err != nil {
		return "", err
	}
	return mt.TargetPath, nil
}

func accessOf(block bool) csi.AccessType {
	if block {
		return csi.Block
	}
	return csi.Mount
}

// Names of what the agent creates: recognisable as cairn's, unique per
// item, and the same on every retry.
func snapshotName(uid string) string   { return "cairn-snap-" + uid }
func tempVolumeName(uid string) string { return "cairn-tmp-" + uid }
func restoreVolName(uid string) string { return "cairn-restore-" + uid }
