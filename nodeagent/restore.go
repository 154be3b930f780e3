package nodeagent

import (
	"context"
	"fmt"
	"path/filepath"

	storagev1 "k8s.io/api/storage/v1"

	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/csi"
)

// restoreJob is what one VolumeRestore needs while it runs.
type restoreJob struct {
	w     *work
	vr    *v1alpha1.VolumeRestore
	repo  *repo.Repository
	done  func() // releases repo
	snap  *snapshot.Snapshot
	root  *snapshot.Node
	block bool
	stats v1alpha1.WorkStats
}

// runRestore creates the volume, writes the snapshot into it and binds it
// to the restored claim.
func (a *Agent) runRestore(ctx context.Context, w *work) outcome {
	vr := w.obj.(*v1alpha1.VolumeRestore)
	start := a.now()
	j, err := a.prepareRestore(ctx, w, vr)
	if err == nil {
		defer j.done()
		err = a.restoreVolume(ctx, j)
	}
	if err != nil {
		a.metrics.errors.WithLabelValues(causeOf(err)).Inc()
		return outcome{phase: v1alpha1.WorkFailed, message: fmt.Sprintf("restore volume %s/%s from snapshot %s: %v",
			vr.Spec.Target.PVC.Namespace, vr.Spec.Target.PVC.Name, vr.Spec.SnapshotID, err)}
	}
	j.stats.DurationMilliseconds = a.now().Sub(start).Milliseconds()
	return outcome{phase: v1alpha1.WorkCompleted, snapshotID: vr.Spec.SnapshotID, stats: j.stats,
		message: fmt.Sprintf("restored %s into volume %s", human(j.stats.BytesRead), w.rec.VolumeID)}
}

// prepareRestore opens the repository and finds the snapshot's one root
// node: the volume's directory or image.
func (a *Agent) prepareRestore(ctx context.Context, w *work, vr *v1alpha1.VolumeRestore) (*restoreJob, error) {
	r, done, err := a.openRepo(ctx, vr.Spec.LocationName)
	if err != nil {
		return nil, err
	}
	j, err := restoreJobFor(ctx, w, vr, r)
	if err != nil {
		done()
		return nil, err
	}
	j.done = done
	return j, nil
}

// restoreJobFor reads the item's snapshot and checks that it is one volume
// of the claim's mode.
func restoreJobFor(ctx context.Context, w *work, vr *v1alpha1.VolumeRestore, r *repo.Repository) (*restoreJob, error) {
	// Another node may have written the snapshot since this repository was
	// opened: read the index files added since.
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	snap, err := loadSnapshot(ctx, r, vr.Spec.SnapshotID)
	if err != nil {
		return nil, err
	}
	nodes, err := snapshot.LoadTree(ctx, r, snap.Tree)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", vr.Spec.SnapshotID, err)
	}
	if len(nodes) != 1 {
		return nil, fmt.Errorf("snapshot %s holds %d top-level entries, not one volume; it was not written by a volume backup", vr.Spec.SnapshotID, len(nodes))
	}
	block := snap.Kind == snapshot.KindBlock
	if block != (vr.Spec.Target.VolumeMode == "Block") && vr.Spec.Target.VolumeMode != "" {
		return nil, fmt.Errorf("snapshot %s is a %s volume but the claim asks for volumeMode %s", vr.Spec.SnapshotID, snap.Kind, vr.Spec.Target.VolumeMode)
	}
	return &restoreJob{w: w, vr: vr, repo: r, snap: snap, root: nodes[0], block: block}, nil
}

// restoreVolume runs the driver and restorer steps; the volume is deleted
// again if any of them fails.
func (a *Agent) restoreVolume(ctx context.Context, j *restoreJob) error {
	target := j.vr.Spec.Target
	dr, err := a.drivers.get(ctx, target.CSIDriver)
	if err != nil {
		return err
	}
	sc, err := a.storageClass(ctx, target.StorageClassName)
	if err != nil {
		return err
	}
	sec, err := a.secretsFor(ctx, target, sc)
	if err != nil {
		return err
	}
	j.w.rec.Driver, j.w.rec.StorageClass, j.w.rec.Volume = dr.name, target.StorageClassName, target
	defer func() { a.cleanup(j.w, dr, sec, false) }()
	vol, err := a.createRestoreVolume(ctx, j, dr, sc, sec)
	if err != nil {
		return err
	}
	m := csi.Mounting{VolumeID: vol.ID, Access: accessOf(j.block), VolumeContext: vol.Context,
		StageSecrets: sec.nodeStage, PublishSecret: sec.nodePublish}
	if _, err := a.publish(ctx, j.w, dr, m, j.root.Name); err != nil {
		return err
	}
	if err := a.writeData(ctx, j); err != nil {
		return err
	}
	if err := a.unpublish(ctx, dr, j.w.rec); err != nil {
		return err
	}
	if err := a.bindVolume(ctx, j, dr, sc, vol); err != nil {
		return err
	}
	j.w.rec.KeepVolume = true
	return a.journal.put(j.w.rec)
}

// createRestoreVolume makes the volume the data goes into, large enough
// for the image (block) or as large as the claim asks (filesystem).
func (a *Agent) createRestoreVolume(ctx context.Context, j *restoreJob, dr *driver, sc *storagev1.StorageClass, sec volumeSecrets) (csi.Volume, error) {
	capacity := int64(0)
	if c := j.vr.Spec.Target.Capacity; c != nil {
		capacity = c.Value()
	}
	if j.block {
		capacity = max(capacity, j.root.Size)
	}
	j.w.rec.VolumeName = restoreVolName(j.w.rec.UID)
	if err := a.journal.put(j.w.rec); err != nil {
		return csi.Volume{}, err
	}
	vol, err := dr.controller.CreateVolume(ctx, csi.VolumeRequest{Name: j.w.rec.VolumeName, CapacityBytes: capacity,
		Access: accessOf(j.block), Parameters: driverParameters(sc), Secrets: sec.provisioner, Topology: dr.info.Topology})
	if err != nil {
		return vol, fmt.Errorf("create the volume: %w", err)
	}
	j.w.rec.VolumeID = vol.ID
	return vol, a.journal.put(j.w.rec)
}

// writeData restores the snapshot onto the published volume. For a file
// system the target is the directory the volume is published in, under
// the snapshot's root node's name, so the restorer writes into the volume
// (and gives its root the backed-up owner, mode and times); a block image
// goes onto the device itself.
func (a *Agent) writeData(ctx context.Context, j *restoreJob) error {
	p := &restorer.Progress{}
	j.w.setProgress(func() (int64, int64) { return p.BytesDone.Load(), p.BytesTotal.Load() })
	target := dataDir(a.cfg.mountDir(j.w.rec.UID))
	if j.block {
		target = filepath.Join(target, j.root.Name) // the device itself receives the image
	}
	t0 := a.now()
	res, err := restorer.Restore(ctx, j.repo, j.snap, restorer.Options{Target: target, Progress: p})
	j.stats.ReadMilliseconds = a.now().Sub(t0).Milliseconds()
	if err != nil {
		return err
	}
	for _, wr := range res.Warnings {
		j.w.warn(wr.Error())
	}
	j.stats.ReadMode = v1alpha1.ReadFiles
	if j.block {
		j.stats.ReadMode = v1alpha1.ReadAllocated
	}
	j.stats.VolumeBytes, j.stats.BytesRead, j.stats.Files = j.snap.Stats.Bytes, p.BytesDone.Load(), res.Files
	a.metrics.restoredBytes.Add(float64(p.BytesDone.Load()))
	return nil
}
