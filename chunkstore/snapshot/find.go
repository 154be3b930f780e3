package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
)

// kindDir is the repository folder of snapshot records.
const kindDir = "snapshots"

// Files is the part of a repository that stores snapshot records.
type Files interface {
	ListFiles(ctx context.Context, kind string) ([]core.ID, error)
	LoadFile(ctx context.Context, kind string, id core.ID) ([]byte, error)
}

// Stored is a snapshot with its ID.
type Stored struct {
	ID core.ID
	*Snapshot
}

// ErrNotFound means no snapshot matches a reference.
var ErrNotFound = errors.New("snapshot not found")

// Damaged is a snapshot record that cannot be read back: its bytes fail
// verification or do not parse. It costs only itself: every other
// snapshot still lists, backs up and prunes.
type Damaged struct {
	ID  core.ID
	Err error
}

func (d Damaged) Error() string {
	return fmt.Sprintf("snapshot %s is damaged and cannot be read (%v); remove its record with 'cairn repo forget %s'",
		d.ID.Short(), d.Err, d.ID.Short())
}

func (d Damaged) Unwrap() error { return d.Err }

// Listing is every snapshot record: the readable ones, oldest first, and
// the damaged ones apart.
type Listing struct {
	Snapshots []Stored
	Damaged   []Damaged
}

// Warner receives damage a lookup worked around; a repository is one.
type Warner interface {
	Warn(err error)
}

// List loads every snapshot. A damaged record is set aside in the listing
// rather than failing it; only a store that cannot deliver fails it.
func List(ctx context.Context, f Files) (*Listing, error) {
	ids, err := f.ListFiles(ctx, kindDir)
	if err != nil {
		return nil, err
	}
	out := &Listing{Snapshots: make([]Stored, 0, len(ids))}
	for _, id := range ids {
		s, err := Load(ctx, f, id)
		switch {
		case errors.Is(err, blob.ErrNotFound):
			continue // forgotten since the listing
		case errors.Is(err, core.ErrCorrupt):
			out.Damaged = append(out.Damaged, Damaged{ID: id, Err: err})
			continue
		case err != nil:
			return nil, err
		}
		out.Snapshots = append(out.Snapshots, Stored{ID: id, Snapshot: s})
	}
	slices.SortFunc(out.Snapshots, func(a, b Stored) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// warnDamaged passes the listing's damaged records to f if it takes
// warnings: a command that skips them must still say so.
func (l *Listing) warnDamaged(f Files) {
	if w, ok := f.(Warner); ok {
		for _, d := range l.Damaged {
			w.Warn(d)
		}
	}
}

// Load reads and parses one snapshot record. Bytes that do not parse are
// damage, like bytes that fail verification: both wrap core.ErrCorrupt.
func Load(ctx context.Context, f Files, id core.ID) (*Snapshot, error) {
	b, err := f.LoadFile(ctx, kindDir, id)
	if err != nil {
		return nil, err
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w: %w", id.Short(), core.ErrCorrupt, err)
	}
	return s, nil
}

// Resolve turns a reference ("latest", an ID or a unique prefix of at
// least 4 hex digits) into a snapshot ID without reading the record, so a
// damaged snapshot can still be named (to forget it).
func Resolve(ctx context.Context, f Files, ref string) (core.ID, error) {
	if ref == "latest" {
		s, err := Find(ctx, f, ref)
		return s.ID, err
	}
	if len(ref) < 4 {
		return core.ID{}, fmt.Errorf("snapshot %q: give at least 4 hex digits of the ID, or \"latest\"", ref)
	}
	ids, err := f.ListFiles(ctx, kindDir)
	if err != nil {
		return core.ID{}, err
	}
	var match []core.ID
	for _, id := range ids {
		if strings.HasPrefix(id.String(), strings.ToLower(ref)) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return core.ID{}, fmt.Errorf("%w: no snapshot ID starts with %q; list them with 'cairn repo snapshots'", ErrNotFound, ref)
	case 1:
		return match[0], nil
	}
	return core.ID{}, fmt.Errorf("snapshot %q is ambiguous: %d IDs start with it; give more digits", ref, len(match))
}

// Find resolves a reference and loads the snapshot. "latest" is the newest
// readable snapshot; damaged ones are skipped with a warning.
func Find(ctx context.Context, f Files, ref string) (Stored, error) {
	if ref == "latest" {
		all, err := List(ctx, f)
		if err != nil {
			return Stored{}, err
		}
		all.warnDamaged(f)
		if len(all.Snapshots) == 0 {
			return Stored{}, fmt.Errorf("%w: the repository has no snapshots yet", ErrNotFound)
		}
		return all.Snapshots[len(all.Snapshots)-1], nil
	}
	id, err := Resolve(ctx, f, ref)
	if err != nil {
		return Stored{}, err
	}
	s, err := Load(ctx, f, id)
	if errors.Is(err, core.ErrCorrupt) {
		return Stored{}, Damaged{ID: id, Err: err}
	}
	return Stored{ID: id, Snapshot: s}, err
}

// Latest returns the newest readable snapshot whose paths and kind match,
// to use as a parent, or ok=false. Damaged ones are skipped with a warning.
func Latest(ctx context.Context, f Files, kind string, paths []string) (Stored, bool, error) {
	all, err := List(ctx, f)
	if err != nil {
		return Stored{}, false, err
	}
	all.warnDamaged(f)
	for i := len(all.Snapshots) - 1; i >= 0; i-- {
		if s := all.Snapshots[i]; s.Kind == kind && slices.Equal(s.Paths, paths) {
			return s, true, nil
		}
	}
	return Stored{}, false, nil
}
