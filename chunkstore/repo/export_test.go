package repo

import (
	"context"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// SetMergeHook sets the hook run before a merged segment's manifest is
// written, for the kill-during-merge test.
func SetMergeHook(fn func() error) { mergeHook = fn }

// NewIndexEntriesHeld loads ids as an open of the index cache loads the
// files it does not hold, and returns the entries still held in memory,
// the entries counted, and the Supersedes kept.
func (r *Repository) NewIndexEntriesHeld(ctx context.Context, ids []core.ID, limit int) (held, counted, supersedes int, err error) {
	files, err := r.loadNewIndexFiles(ctx, ids, limit)
	for _, f := range files {
		counted += f.entries
		if f.file == nil {
			continue
		}
		supersedes += len(f.file.Supersedes)
		for _, p := range f.file.Packs {
			held += len(p.Blobs)
		}
	}
	return held, counted, supersedes, err
}
