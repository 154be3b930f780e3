package nodeagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// record is what one work item created on this node, written before each
// create so that a killed agent's leftovers can be found and removed.
type record struct {
	// Kind is "backup", "restore" or "base" (a snapshot kept as the base of
	// the next changed-block incremental).
	Kind      string `json:"kind"`
	UID       string `json:"uid"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Driver    string `json:"driver"`
	// Names asked for; IDs once the driver answered.
	SnapshotName string `json:"snapshotName,omitempty"`
	SnapshotID   string `json:"snapshotID,omitempty"`
	VolumeName   string `json:"volumeName,omitempty"`
	VolumeID     string `json:"volumeID,omitempty"`
	// SnapshotSource is the volume the snapshot is of, to re-ask for it.
	SnapshotSource string `json:"snapshotSource,omitempty"`
	Staging        string `json:"staging,omitempty"`
	Target         string `json:"target,omitempty"`
	Published      bool   `json:"published,omitempty"`
	// KeepVolume marks a restored volume that now belongs to its PV.
	KeepVolume bool `json:"keepVolume,omitempty"`
	// PVCUID ties a base snapshot to its volume's claim.
	PVCUID string `json:"pvcUID,omitempty"`
	// StorageClass and Volume let the janitor read the CSI secrets the
	// cleanup calls need again (the values are never journaled).
	StorageClass string                `json:"storageClass,omitempty"`
	Volume       v1alpha1.VolumeSource `json:"volume"`
}

// journal keeps one record file per item in a directory. Files are
// written with a temporary file, fsync and rename, so a crash leaves the
// old record or the new one, never a torn one.
type journal struct {
	dir string
	mu  sync.Mutex
}

func newJournal(dir string) (*journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create journal directory %s: %w", dir, err)
	}
	return &journal{dir: dir}, nil
}

func (j *journal) path(kind, uid string) string {
	return filepath.Join(j.dir, kind+"-"+uid+".json")
}

// put writes r.
func (j *journal) put(r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return writeFileSync(j.path(r.Kind, r.UID), b)
}

// drop removes the record of kind and uid.
func (j *journal) drop(kind, uid string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	err := os.Remove(j.path(kind, uid))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// all reads every record. A record that does not parse is reported and
// skipped: it holds nothing the agent could act on.
func (j *journal) all() ([]*record, []error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, []error{fmt.Errorf("read journal %s: %w", j.dir, err)}
	}
	var out []*record
	var problems []error
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(j.dir, e.Name()))
		var r record
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil || r.UID == "" {
			problems = append(problems, fmt.Errorf("journal record %s is unreadable (%v); removing it", e.Name(), err))
			_ = os.Remove(filepath.Join(j.dir, e.Name()))
			continue
		}
		out = append(out, &r)
	}
	return out, problems
}

// writeFileSync writes data to path atomically and durably.
func writeFileSync(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
