package snapshot

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// Snapshot kinds.
const (
	KindFiles = "files"
	KindBlock = "block"
)

// Version is the snapshot record's format version.
const Version = 1

// Stats summarise one backup.
type Stats struct {
	Files           int64   `json:"files"`
	Dirs            int64   `json:"dirs"`
	Bytes           int64   `json:"bytes"`
	BytesRead       int64   `json:"bytes_read"`
	BytesAdded      int64   `json:"bytes_added"`
	BytesStored     int64   `json:"bytes_stored"`
	BlobsNew        int64   `json:"blobs_new"`
	DurationSeconds float64 `json:"duration_seconds"`
}

// Snapshot is the record stored under snapshots/. Tree names the root
// directory's parts; each backed-up path is a node in it, named by its base
// name.
type Snapshot struct {
	Version  int       `json:"version"`
	Kind     string    `json:"kind"`
	Time     time.Time `json:"time"`
	EndTime  time.Time `json:"end_time"`
	Hostname string    `json:"hostname"`
	Paths    []string  `json:"paths"`
	Tags     []string  `json:"tags,omitempty"`
	Parent   *core.ID  `json:"parent,omitempty"`
	Tree     []core.ID `json:"tree"`
	Stats    Stats     `json:"stats"`
	Program  string    `json:"program"`
}

// Parse decodes and validates a snapshot record.
func Parse(b []byte) (*Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("decode snapshot: version %d is unknown; a newer cairn wrote it", s.Version)
	}
	if s.Kind != KindFiles && s.Kind != KindBlock {
		return nil, fmt.Errorf("decode snapshot: unknown kind %q", s.Kind)
	}
	if len(s.Tree) == 0 {
		return nil, fmt.Errorf("decode snapshot: no tree")
	}
	return &s, nil
}

// HasTag reports whether the snapshot carries tag (in "k=v" or plain form).
func (s *Snapshot) HasTag(tag string) bool {
	for _, t := range s.Tags {
		if t == tag {
			return true
		}
	}
	return false
}
