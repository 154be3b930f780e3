package manifest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Version is the manifest format this package writes and reads.
const Version = 1

// loadConcurrency bounds parallel manifest reads: each is one small GET, so
// latency, not bandwidth, dominates, and 8 hides S3's per-request latency
// without tripping its request-rate limits.
const loadConcurrency = 8

// ErrVersion marks a manifest written by a newer cairn.
var ErrVersion = errors.New("unknown manifest version")

// Manifest describes one cluster backup.
type Manifest struct {
	Version         int                   `json:"version"`
	BackupName      string                `json:"backupName"`
	BackupNamespace string                `json:"backupNamespace"`
	Spec            v1alpha1.BackupSpec   `json:"spec"`
	Status          v1alpha1.BackupStatus `json:"status"`
	// ClusterID identifies the cluster that made the backup (for example
	// the UID of its kube-system namespace).
	ClusterID string    `json:"clusterID,omitempty"`
	Created   time.Time `json:"created"`
	// Log is the backup's log, one line per entry.
	Log []string `json:"log,omitempty"`
}

// Stored is a manifest and its repository ID.
type Stored struct {
	ID core.ID
	Manifest
}

// Saver is the part of a repository Save needs; *repo.Repository has it.
type Saver interface {
	SaveJSON(ctx context.Context, kind string, v any) (core.ID, error)
}

// Reader is the part of a repository List and Load need.
type Reader interface {
	ListFiles(ctx context.Context, kind string) ([]core.ID, error)
	LoadJSON(ctx context.Context, kind string, id core.ID, v any) error
}

// Deleter is the part of a repository Delete needs.
type Deleter interface {
	DeleteFile(ctx context.Context, kind string, id core.ID) error
}

var _ interface {
	Saver
	Reader
	Deleter
} = (*repo.Repository)(nil)

// Save writes m and returns its ID. A zero Version is set to Version and a
// zero Created to the current time.
func Save(ctx context.Context, r Saver, m *Manifest) (core.ID, error) {
	if m.BackupName == "" {
		return core.ID{}, errors.New("save manifest: no backup name")
	}
	if m.Version == 0 {
		m.Version = Version
	}
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	id, err := r.SaveJSON(ctx, repo.KindManifest, m)
	if err != nil {
		return core.ID{}, fmt.Errorf("save manifest of backup %s/%s: %w", m.BackupNamespace, m.BackupName, err)
	}
	return id, nil
}

// Load reads one manifest.
func Load(ctx context.Context, r Reader, id core.ID) (*Manifest, error) {
	var m Manifest
	if err := r.LoadJSON(ctx, repo.KindManifest, id, &m); err != nil {
		return nil, fmt.Errorf("load manifest %s: %w", id.Short(), err)
	}
	if m.Version != Version {
		return nil, fmt.Errorf("load manifest %s: %w %d (this cairn reads %d); upgrade cairn", id.Short(), ErrVersion, m.Version, Version)
	}
	return &m, nil
}

// IDs lists the IDs of every manifest.
func IDs(ctx context.Context, r Reader) ([]core.ID, error) {
	ids, err := r.ListFiles(ctx, repo.KindManifest)
	if err != nil {
		return nil, fmt.Errorf("list manifests: %w", err)
	}
	return ids, nil
}

// Delete removes a manifest; a missing one is not an error.
func Delete(ctx context.Context, r Deleter, id core.ID) error {
	if err := r.DeleteFile(ctx, repo.KindManifest, id); err != nil {
		return fmt.Errorf("delete manifest %s: %w", id.Short(), err)
	}
	return nil
}

// DeleteBackup removes every manifest naming backup, not only the one its
// status records: a controller that crashed between saving a manifest and
// recording it saves another, and a leftover would bring the backup back
// through the sync controller. Manifests that cannot be read are left (the
// sync controller cannot import them either). It costs one LIST and one
// GET per manifest; call it when a backup is deleted, not on a hot path.
func DeleteBackup(ctx context.Context, r interface {
	Reader
	Deleter
}, backup string) error {
	all, err := List(ctx, r)
	if all == nil && err != nil {
		return fmt.Errorf("delete manifests of backup %s: %w", backup, err)
	}
	for _, s := range all {
		if s.BackupName != backup {
			continue
		}
		if err := Delete(ctx, r, s.ID); err != nil {
			return fmt.Errorf("delete manifests of backup %s: %w", backup, err)
		}
	}
	return nil
}

// List loads every manifest, in the order of their IDs. Manifests that
// cannot be read (corrupt, newer version) do not hide the others: List
// returns those it read together with an error that joins each failure.
// A failure to list at all returns no manifests.
func List(ctx context.Context, r Reader) ([]Stored, error) {
	ids, err := IDs(ctx, r)
	if err != nil {
		return nil, err
	}
	return LoadAll(ctx, r, ids)
}

// LoadAll loads the given manifests concurrently, with List's error rules.
func LoadAll(ctx context.Context, r Reader, ids []core.ID) ([]Stored, error) {
	loaded := make([]*Manifest, len(ids))
	var (
		mu   sync.Mutex
		errs []error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(loadConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			m, err := Load(gctx, r, id)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return nil
			}
			loaded[i] = m
			return nil
		})
	}
	_ = g.Wait() // workers never fail; their errors are collected
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list manifests: %w", err)
	}
	out := make([]Stored, 0, len(ids))
	for i, m := range loaded {
		if m != nil {
			out = append(out, Stored{ID: ids[i], Manifest: *m})
		}
	}
	return out, errors.Join(errs...)
}

// Newest keeps, for each backup name, the manifest with the latest Created
// time (ties broken by ID, so the choice is stable).
func Newest(all []Stored) map[string]Stored {
	out := make(map[string]Stored, len(all))
	for _, s := range all {
		cur, ok := out[s.BackupName]
		if !ok || s.Created.After(cur.Created) ||
			(s.Created.Equal(cur.Created) && s.ID.String() > cur.ID.String()) {
			out[s.BackupName] = s
		}
	}
	return out
}
