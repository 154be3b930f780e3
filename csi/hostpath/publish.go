package hostpath

import (
	"context"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The mechanics of the Node service. Every change is recorded in the state
// file before it is made on the machine (a publication starts with Ready
// false), so that after a crash the next Publish, Unpublish or ReleaseAll
// of that path knows what may be mounted or attached and undoes it.

// recordPublish validates a publication against the volume, its stage and
// what is already published, and records it. done is true when an
// identical publication is already in place (idempotency).
func (d *Driver) recordPublish(want *publishRecord, ci capInfo) (rec *publishRecord, done bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.st.Volumes[want.VolumeID]
	if v == nil {
		return nil, false, status.Errorf(codes.NotFound, "volume %s does not exist", want.VolumeID)
	}
	ci.readerOnly = want.ReadOnly
	if err := fitsVolume(ci, v); err != nil {
		return nil, false, status.Error(codes.FailedPrecondition, err.Error())
	}
	if err := d.checkStaged(want); err != nil {
		return nil, false, err
	}
	if old := d.st.Publications[want.Target]; old != nil {
		return d.republish(old, want)
	}
	for _, p := range d.st.publicationsOf(v.ID) {
		if p.SingleWriter || want.SingleWriter {
			return nil, false, status.Errorf(codes.FailedPrecondition, "volume %s is already published at %s and one of the two publications asks for a single writer", v.ID, p.Target)
		}
	}
	d.st.Publications[want.Target] = want
	if err := d.saveLocked(); err != nil {
		delete(d.st.Publications, want.Target)
		return nil, false, internal(fmt.Errorf("record publication of %s at %s: %w", want.VolumeID, want.Target, err))
	}
	return want, false, nil
}

// checkStaged requires the volume to be staged at the given path, and for
// a filesystem volume the staging mount to be in place: binding an empty
// staging directory would silently publish an empty volume.
func (d *Driver) checkStaged(want *publishRecord) error {
	st := d.st.Stages[want.Staging]
	if st.volumeID() != want.VolumeID {
		return status.Errorf(codes.FailedPrecondition, "volume %s is not staged at %s; call NodeStageVolume first", want.VolumeID, want.Staging)
	}
	if st.ReadOnly && !want.ReadOnly {
		return status.Errorf(codes.FailedPrecondition, "volume %s is staged read-only at %s and cannot be published read-write", want.VolumeID, want.Staging)
	}
	if want.Kind == kindFilesystem {
		mounted, err := isMountPoint(want.Staging)
		if err != nil {
			return internal(err)
		}
		if !mounted {
			return status.Errorf(codes.FailedPrecondition, "staging path %s of volume %s is not mounted; stage the volume again", want.Staging, want.VolumeID)
		}
	}
	return nil
}

// republish handles a target that already has a record: the same request
// again is success if the publication is complete, and is redone from
// scratch if an earlier attempt was cut short.
func (d *Driver) republish(old, want *publishRecord) (*publishRecord, bool, error) {
	if old.VolumeID != want.VolumeID || old.Kind != want.Kind || old.ReadOnly != want.ReadOnly || old.Staging != want.Staging {
		return nil, false, status.Errorf(codes.AlreadyExists, "target %s already holds volume %s (read-only %t, staged at %s)", old.Target, old.VolumeID, old.ReadOnly, old.Staging)
	}
	if old.Ready {
		mounted, err := isMountPoint(old.Target)
		if err != nil {
			return nil, false, internal(err)
		}
		if mounted {
			return old, true, nil
		}
	}
	old.Ready = false
	return old, false, nil
}

// setUpPublication mounts a recorded publication. It first removes what a
// cut-short attempt may have left, so it can always start from scratch.
func (d *Driver) setUpPublication(ctx context.Context, rec *publishRecord) error {
	if err := d.releaseDevice(rec); err != nil {
		return err
	}
	if err := unmountAll(rec.Target); err != nil {
		return err
	}
	d.mu.Lock()
	v := d.st.Volumes[rec.VolumeID]
	d.mu.Unlock()
	if v == nil {
		return fmt.Errorf("volume %s vanished during publish", rec.VolumeID)
	}
	src := rec.Staging
	if rec.Kind == kindBlock {
		src = d.volumeData(v)
		if d.useLoop {
			dev, err := attachLoop(src, rec.ReadOnly)
			if err != nil {
				return err
			}
			if err := d.updatePublication(rec, func(r *publishRecord) { r.Device, r.Backing = dev, src }); err != nil {
				detachLoop(dev, src)
				return err
			}
			src = dev
		}
	}
	if _, err := makeTarget(rec.Target, rec.Kind); err != nil {
		return err
	}
	if err := bindMount(src, rec.Target, rec.ReadOnly); err != nil {
		return err
	}
	return d.updatePublication(rec, func(r *publishRecord) { r.Ready = true })
}

// updatePublication changes a publication's record and saves it.
func (d *Driver) updatePublication(rec *publishRecord, change func(*publishRecord)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	saved := *rec
	change(rec)
	if err := d.saveLocked(); err != nil {
		*rec = saved
		return fmt.Errorf("record publication at %s: %w", rec.Target, err)
	}
	return nil
}

// undoPublication removes a failed publication entirely; errors are only
// logged, the publish error is what the caller reports.
func (d *Driver) undoPublication(ctx context.Context, rec *publishRecord) {
	if err := d.tearDownPublication(rec); err != nil {
		d.log.ErrorContext(ctx, "undo failed publication", "volume", rec.VolumeID, "target", rec.Target, "error", err)
	}
}

// tearDownPublication unmounts the target, detaches its loop device,
// removes the target and then the record. If a step fails the record
// stays, so that the retry the CO makes finishes the job.
func (d *Driver) tearDownPublication(rec *publishRecord) error {
	if err := unmountAll(rec.Target); err != nil {
		return err
	}
	if err := d.releaseDevice(rec); err != nil {
		return err
	}
	if err := removeTarget(rec.Target); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.st.Publications, rec.Target)
	if err := d.saveLocked(); err != nil {
		d.st.Publications[rec.Target] = rec
		return fmt.Errorf("record unpublication at %s: %w", rec.Target, err)
	}
	return nil
}

// releaseDevice detaches a publication's loop device, if it has one.
func (d *Driver) releaseDevice(rec *publishRecord) error {
	if rec.Device == "" {
		return nil
	}
	if err := detachLoop(rec.Device, rec.Backing); err != nil {
		return err
	}
	return d.updatePublication(rec, func(r *publishRecord) { r.Device, r.Backing = "", "" })
}

// mountStage bind-mounts a filesystem volume on its staging path unless it
// is mounted already; raw block staging mounts nothing.
func (d *Driver) mountStage(rec *stageRecord, src string) error {
	if rec.Kind == kindBlock {
		return nil
	}
	if err := os.MkdirAll(rec.Path, 0o750); err != nil {
		return fmt.Errorf("create staging path %s: %w", rec.Path, err)
	}
	mounted, err := isMountPoint(rec.Path)
	if err != nil || mounted {
		return err
	}
	return bindMount(src, rec.Path, rec.ReadOnly)
}

func (d *Driver) dropStage(path string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec := d.st.Stages[path]
	if rec == nil {
		return nil
	}
	delete(d.st.Stages, path)
	if err := d.saveLocked(); err != nil {
		d.st.Stages[path] = rec
		return internal(fmt.Errorf("record unstage at %s: %w", path, err))
	}
	return nil
}

// ReleaseAll unpublishes and unstages everything the state records, this
// process's work or an earlier one's: mounts are removed and loop devices
// detached. Tests call it in their cleanup; call it while no RPC runs.
func (d *Driver) ReleaseAll(ctx context.Context) error {
	d.mu.Lock()
	var pubs []*publishRecord
	for _, k := range sortedKeys(d.st.Publications) {
		pubs = append(pubs, d.st.Publications[k])
	}
	stages := sortedKeys(d.st.Stages)
	d.mu.Unlock()
	var errs []error
	for _, p := range pubs {
		if err := d.tearDownPublication(p); err != nil {
			errs = append(errs, fmt.Errorf("unpublish %s from %s: %w", p.VolumeID, p.Target, err))
		}
	}
	for _, path := range stages {
		err := unmountAll(path)
		if err == nil {
			err = d.dropStage(path)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("unstage %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}
