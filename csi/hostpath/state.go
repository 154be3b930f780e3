package hostpath

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// stateVersion is bumped on any incompatible change of the state file.
const stateVersion = 1

type accessKind string

const (
	kindFilesystem accessKind = "filesystem"
	kindBlock      accessKind = "block"
)

type volumeRecord struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Kind           accessKind        `json:"kind"`
	CapacityBytes  int64             `json:"capacityBytes"`
	Parameters     map[string]string `json:"parameters,omitempty"`
	SourceSnapshot string            `json:"sourceSnapshot,omitempty"`
	SourceVolume   string            `json:"sourceVolume,omitempty"`
	// ReadOnly volumes were created with reader-only access modes only, so
	// they are never published for writing.
	ReadOnly bool `json:"readOnly,omitempty"`
	// SharedSnapshot names the snapshot whose data a ReadOnly volume uses in
	// place instead of a copy (a thin clone).
	SharedSnapshot string    `json:"sharedSnapshot,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
}

type snapshotRecord struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	SourceVolumeID string            `json:"sourceVolumeId"`
	Kind           accessKind        `json:"kind"`
	SizeBytes      int64             `json:"sizeBytes"`
	Parameters     map[string]string `json:"parameters,omitempty"`
	CreatedAt      time.Time         `json:"createdAt"`
	// BlockSize is non-zero when a block map was recorded at the cut.
	BlockSize int64 `json:"blockSize,omitempty"`
	// Deleted snapshots are invisible to every RPC; their data stays until
	// the last volume sharing it is deleted.
	Deleted bool `json:"deleted,omitempty"`
}

type stageRecord struct {
	VolumeID string     `json:"volumeId"`
	Path     string     `json:"path"`
	Kind     accessKind `json:"kind"`
	ReadOnly bool       `json:"readOnly,omitempty"`
}

type publishRecord struct {
	VolumeID     string     `json:"volumeId"`
	Target       string     `json:"target"`
	Staging      string     `json:"staging"`
	Kind         accessKind `json:"kind"`
	ReadOnly     bool       `json:"readOnly,omitempty"`
	SingleWriter bool       `json:"singleWriter,omitempty"`
	// Device is the loop device attached for this publication, if any.
	Device string `json:"device,omitempty"`
	// Backing is the image file behind Device, checked before a detach so a
	// stale record (after a reboot) never detaches someone else's device.
	Backing string `json:"backing,omitempty"`
	// Ready is false while the publication is being set up; a crash leaves
	// it false and the next Publish or Unpublish tears the rest down.
	Ready bool `json:"ready"`
}

type state struct {
	Version      int                        `json:"version"`
	Volumes      map[string]*volumeRecord   `json:"volumes"`
	Snapshots    map[string]*snapshotRecord `json:"snapshots"`
	Stages       map[string]*stageRecord    `json:"stages"`       // by staging path
	Publications map[string]*publishRecord  `json:"publications"` // by target path
}

func newState() *state {
	return &state{
		Version:      stateVersion,
		Volumes:      map[string]*volumeRecord{},
		Snapshots:    map[string]*snapshotRecord{},
		Stages:       map[string]*stageRecord{},
		Publications: map[string]*publishRecord{},
	}
}

// loadState reads the state file; a missing file is an empty state. A
// corrupt one is an error: starting empty would orphan every volume.
func loadState(path string) (*state, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	st := newState()
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("parse state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("state %s has version %d, this driver reads %d", path, st.Version, stateVersion)
	}
	return st, nil
}

// save writes the state durably: temp file, fsync, rename, directory fsync.
// A crash leaves the old file or the new one, never a torn one.
func (st *state) save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(path, b)
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s for fsync: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

func (st *state) volumeByName(name string) *volumeRecord {
	for _, v := range st.Volumes {
		if v.Name == name {
			return v
		}
	}
	return nil
}

func (st *state) snapshotByName(name string) *snapshotRecord {
	for _, s := range st.Snapshots {
		if s.Name == name && !s.Deleted {
			return s
		}
	}
	return nil
}

// liveSnapshot returns the snapshot unless it is missing or deleted.
func (st *state) liveSnapshot(id string) *snapshotRecord {
	if s := st.Snapshots[id]; s != nil && !s.Deleted {
		return s
	}
	return nil
}

func (st *state) publicationsOf(volID string) []*publishRecord {
	var out []*publishRecord
	for _, p := range st.Publications {
		if p.VolumeID == volID {
			out = append(out, p)
		}
	}
	return out
}

func (st *state) stagesOf(volID string) []*stageRecord {
	var out []*stageRecord
	for _, s := range st.Stages {
		if s.VolumeID == volID {
			out = append(out, s)
		}
	}
	return out
}

// sharers counts the volumes that use a snapshot's data in place.
func (st *state) sharers(snapID string) int {
	n := 0
	for _, v := range st.Volumes {
		if v.SharedSnapshot == snapID {
			n++
		}
	}
	return n
}

// usedCapacity sums the volumes that own their data; thin clones cost
// nothing.
func (st *state) usedCapacity() int64 {
	var n int64
	for _, v := range st.Volumes {
		if v.SharedSnapshot == "" {
			n += v.CapacityBytes
		}
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const (
	volumePrefix   = "vol-"
	snapshotPrefix = "snap-"
)

// newID returns prefix + 16 random hex digits. IDs double as file names
// and as pagination tokens, hence the fixed shape.
func newID(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on Linux
	}
	return prefix + hex.EncodeToString(b[:])
}

// validID reports whether id has the shape newID produces, so that a
// client-supplied ID can be used as a file name safely.
func validID(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || len(rest) != 16 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil && strings.ToLower(rest) == rest
}
