package hostpath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// layout names every file under the root:
//
//	state.json                 the durable metadata (see state.go)
//	.lock                      flock held by the running driver
//	volumes/<id>/              a filesystem volume
//	volumes/<id>.img           a block volume (sparse image)
//	snapshots/<id>/            a filesystem snapshot (a copy of the tree)
//	snapshots/<id>.img         a block snapshot (a sparse copy or reflink)
//	snapshots/<id>.blockmap    its block map (blockmap.go)
//	tmp/                       data being created; emptied at start-up
//
// Data is built under tmp/ and renamed into place, and only then recorded
// in the state file, so after a crash anything under volumes/ or snapshots/
// that no record names is garbage (removeOrphans).
type layout struct{ root string }

func (l layout) stateFile() string { return filepath.Join(l.root, "state.json") }
func (l layout) tmpDir() string    { return filepath.Join(l.root, "tmp") }
func (l layout) volumesDir() string {
	return filepath.Join(l.root, "volumes")
}
func (l layout) snapshotsDir() string {
	return filepath.Join(l.root, "snapshots")
}

func (l layout) volumePath(id string, kind accessKind) string {
	return filepath.Join(l.volumesDir(), dataName(id, kind))
}

func (l layout) snapshotPath(id string, kind accessKind) string {
	return filepath.Join(l.snapshotsDir(), dataName(id, kind))
}

func (l layout) blockMapPath(snapID string) string {
	return filepath.Join(l.snapshotsDir(), snapID+".blockmap")
}

func (l layout) tmpPath(name string) string { return filepath.Join(l.tmpDir(), name) }

func dataName(id string, kind accessKind) string {
	if kind == kindBlock {
		return id + ".img"
	}
	return id
}

func (l layout) init() error {
	for _, dir := range []string{l.root, l.volumesDir(), l.snapshotsDir(), l.tmpDir()} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	return nil
}

// removeTemp empties tmp/ and removes state-file temporaries that a crash
// during writeFileAtomic left in the root.
func (l layout) removeTemp() error {
	entries, err := os.ReadDir(l.tmpDir())
	if err != nil {
		return fmt.Errorf("list %s: %w", l.tmpDir(), err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(l.root, ".tmp-*"))
	for _, e := range entries {
		leftovers = append(leftovers, filepath.Join(l.tmpDir(), e.Name()))
	}
	for _, p := range leftovers {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove leftover %s: %w", p, err)
		}
	}
	return nil
}

// removeOrphans deletes data that no record names: what a crash between
// the rename into place and the state write, or between a record's removal
// and its data's, leaves behind.
func (d *Driver) removeOrphans() error {
	known := map[string]bool{}
	for id, v := range d.st.Volumes {
		known[filepath.Join(d.lay.volumesDir(), dataName(id, v.Kind))] = true
	}
	for id, s := range d.st.Snapshots {
		known[filepath.Join(d.lay.snapshotsDir(), dataName(id, s.Kind))] = true
		if s.BlockSize != 0 {
			known[d.lay.blockMapPath(id)] = true
		}
	}
	for _, dir := range []string{d.lay.volumesDir(), d.lay.snapshotsDir()} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if known[p] || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			d.log.Warn("removing orphaned data", "path", p)
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("remove orphan %s: %w", p, err)
			}
		}
	}
	return nil
}

// volumeData is where a volume's bytes are: its own directory or image,
// or, for a thin clone, its snapshot's.
func (d *Driver) volumeData(v *volumeRecord) string {
	if v.SharedSnapshot != "" {
		return d.lay.snapshotPath(v.SharedSnapshot, v.Kind)
	}
	return d.lay.volumePath(v.ID, v.Kind)
}

// createEmpty makes a new volume's data at path: a directory, or a sparse
// image of the given size.
func createEmpty(path string, kind accessKind, size int64) error {
	if kind == kindFilesystem {
		// World-writable like a fresh disk's root: pods run as arbitrary
		// users and this driver has no fsGroup support.
		if err := os.Mkdir(path, 0o777); err != nil {
			return fmt.Errorf("create volume directory %s: %w", path, err)
		}
		return os.Chmod(path, 0o777) // undo the umask
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o660)
	if err != nil {
		return fmt.Errorf("create image %s: %w", path, err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return fmt.Errorf("size image %s to %d bytes: %w", path, size, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync image %s: %w", path, err)
	}
	return f.Close()
}

// copyData copies a volume's or snapshot's data from src to dst, keeping
// holes, and grows a block image to size when it is larger.
func copyData(src, dst string, kind accessKind, size int64) error {
	if kind == kindFilesystem {
		if err := copyTree(src, dst); err != nil {
			return err
		}
		return syncFS(dst)
	}
	return copyImage(src, dst, size)
}

// removeData deletes data, tolerating its absence (idempotent deletes).
func removeData(path string) error {
	if err := os.RemoveAll(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
