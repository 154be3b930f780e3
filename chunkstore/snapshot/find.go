package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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

// List loads every snapshot, oldest first.
func List(ctx context.Context, f Files) ([]Stored, error) {
	ids, err := f.ListFiles(ctx, kindDir)
	if err != nil {
		return nil, err
	}
	out := make([]Stored, 0, len(ids))
	for _, id := range ids {
		s, err := Load(ctx, f, id)
		if err != nil {
			return nil, err
		}
		out = append(out, Stored{ID: id, Snapshot: s})
	}
	slices.SortFunc(out, func(a, b Stored) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// Load reads and parses one snapshot record.
func Load(ctx context.Context, f Files, id core.ID) (*Snapshot, error) {
	b, err := f.LoadFile(ctx, kindDir, id)
	if err != nil {
		return nil, err
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", id.Short(), err)
	}
	return s, nil
}

// Find resolves a reference: "latest", a full ID, or a unique ID prefix of
// at least 4 hex digits.
func Find(ctx context.Context, f Files, ref string) (Stored, error) {
	ids, err := f.ListFiles(ctx, kindDir)
	if err != nil {
		return Stored{}, err
	}
	if ref == "latest" {
		all, err := List(ctx, f)
		if err != nil {
			return Stored{}, err
		}
		if len(all) == 0 {
			return Stored{}, fmt.Errorf("%w: the repository has no snapshots yet", ErrNotFound)
		}
		return all[len(all)-1], nil
	}
	if len(ref) < 4 {
		return Stored{}, fmt.Errorf("snapshot %q: give at least 4 hex digits of the ID, or \"latest\"", ref)
	}
	var match []core.ID
	for _, id := range ids {
		if strings.HasPrefix(id.String(), strings.ToLower(ref)) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return Stored{}, fmt.Errorf("%w: no snapshot ID starts with %q; list them with 'cairn repo snapshots'", ErrNotFound, ref)
	case 1:
		s, err := Load(ctx, f, match[0])
		return Stored{ID: match[0], Snapshot: s}, err
	}
	return Stored{}, fmt.Errorf("snapshot %q is ambiguous: %d IDs start with it; give more digits", ref, len(match))
}

// Latest returns the newest snapshot whose paths and kind match, to use as
// a parent, or ok=false.
func Latest(ctx context.Context, f Files, kind string, paths []string) (Stored, bool, error) {
	all, err := List(ctx, f)
	if err != nil {
		return Stored{}, false, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Kind == kind && slices.Equal(all[i].Paths, paths) {
			return all[i], true, nil
		}
	}
	return Stored{}, false, nil
}
