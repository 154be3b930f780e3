package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/cairnbackup/cairn/csi"
)

// mounting is a volume published into the agent's private directory.
type mounting struct {
	csi.Mounting
	staged bool
}

// publish stages (when the driver stages) and publishes a volume under the
// item's mount directory, at <dir>/<name>: a directory for a filesystem
// volume, a file the device is bound onto for a block volume. The record
// names both paths before the calls, so a crash leaves them findable.
func (a *Agent) publish(ctx context.Context, w *work, dr *driver, m csi.Mounting, name string) (*mounting, error) {
	dir := a.cfg.mountDir(w.rec.UID)
	m.StagingPath = filepath.Join(dir, "staging")
	m.TargetPath = filepath.Join(dataDir(dir), name)
	if err := os.MkdirAll(dataDir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("create mount directory: %w", err)
	}
	if err := os.MkdirAll(m.StagingPath, 0o700); err != nil {
		return nil, fmt.Errorf("create staging directory: %w", err)
	}
	if err := makeTarget(m.TargetPath, m.Access); err != nil {
		return nil, err
	}
	w.rec.Staging, w.rec.Target, w.rec.Published = m.StagingPath, m.TargetPath, true
	if err := a.journal.put(w.rec); err != nil {
		return nil, err
	}
	mt := &mounting{Mounting: m}
	if dr.caps.StageUnstage {
		if err := dr.node.Stage(ctx, m); err != nil {
			return mt, fmt.Errorf("stage volume %s: %w", m.VolumeID, err)
		}
		mt.staged = true
	}
	if err := dr.node.Publish(ctx, m, mt.staged); err != nil {
		return mt, fmt.Errorf("publish volume %s: %w", m.VolumeID, err)
	}
	return mt, nil
}

// makeTarget creates the publish target: kubelet's convention is a
// directory for a mount and an empty file for a block device.
func makeTarget(path string, access csi.AccessType) error {
	if access == csi.Mount {
		if err := os.MkdirAll(path, 0o700); err != nil {
			return fmt.Errorf("create publish target: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create block publish target: %w", err)
	}
	return f.Close()
}

// unpublish undoes publish for the record's paths and removes the item's
// mount directory once nothing is mounted there.
func (a *Agent) unpublish(ctx context.Context, dr *driver, rec *record) error {
	if rec.Published && rec.VolumeID != "" {
		if err := dr.node.Unpublish(ctx, rec.VolumeID, rec.Target); err != nil {
			return fmt.Errorf("unpublish volume %s from %s: %w", rec.VolumeID, rec.Target, err)
		}
		if dr.caps.StageUnstage {
			if err := dr.node.Unstage(ctx, rec.VolumeID, rec.Staging); err != nil {
				return fmt.Errorf("unstage volume %s from %s: %w", rec.VolumeID, rec.Staging, err)
			}
		}
	}
	rec.Published = false
	return removeMountDir(a.cfg.mountDir(rec.UID))
}

// dataDir holds an item's publish target, apart from the staging path, so
// a restore into it touches nothing else.
func dataDir(mountDir string) string { return filepath.Join(mountDir, "data") }

// removeMountDir removes an item's mount directory. Anything still
// mounted below it is detached first, and nothing is removed recursively:
// a driver that forgot to unmount must not make the agent delete a
// volume's files through the mount.
func removeMountDir(dir string) error {
	targets, _ := filepath.Glob(filepath.Join(dataDir(dir), "*"))
	for _, p := range append(targets, filepath.Join(dir, "staging"), dataDir(dir), dir) {
		if mounted(p) {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
				return fmt.Errorf("detach leftover mount %s: %w", p, err)
			}
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("clean mount directory %s: %w", dir, err)
		}
	}
	return nil
}

// mounted reports whether path is a mount point, by comparing its device
// with its parent's (bind mounts of the same file system are caught by
// the mount table).
func mounted(path string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(path, &st) != nil || unix.Lstat(filepath.Dir(path), &parent) != nil {
		return false
	}
	if st.Dev != parent.Dev {
		return true
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	return mountinfoHas(string(data), path)
}
