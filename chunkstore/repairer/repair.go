package repairer

import (
	"context"
	"fmt"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// Options select what a repair does.
type Options struct {
	// Apply writes the new index and the repaired snapshots; without it
	// the repair only reports what it would do.
	Apply bool
	// ReadData reads every pack whole and verifies every blob, so corrupt
	// blobs count as lost, not only those of missing packs.
	ReadData bool
	// Salvage keeps a damaged file with what can still be read of it (the
	// lost ranges become holes) instead of dropping it.
	Salvage bool
	// Workers bounds concurrent pack reads; 0 means 4.
	Workers int
	// Progress, if set, receives the bytes read by ReadData.
	Progress func(done, total int64)
}

// Report says what a repair found and did.
type Report struct {
	Applied bool `json:"applied"`
	// Packs is the number of packs in the store, PacksUnreadable those
	// whose header could not be read and that the old index did not list.
	Packs           int         `json:"packs"`
	PacksUnreadable []PackIssue `json:"packs_unreadable"`
	// PacksMissing were listed by the old index but are not in the store.
	PacksMissing []core.ID `json:"packs_missing"`
	// BlobsCorrupt failed verification (ReadData) and are left out.
	BlobsCorrupt      []BlobIssue `json:"blobs_corrupt"`
	IndexFilesDamaged []core.ID   `json:"index_files_damaged"`
	// IndexFilesReplaced is how many index files the new index
	// supersedes (when applied, they are deleted).
	IndexFilesReplaced int `json:"index_files_replaced"`
	IndexFilesWritten  int `json:"index_files_written"`

	Snapshots []SnapshotRepair `json:"snapshots"`
	// SnapshotsUnreadable are records that cannot be read, so not repaired.
	SnapshotsUnreadable []core.ID `json:"snapshots_unreadable"`
}

// PackIssue is a pack that could not be used, and why.
type PackIssue struct {
	Pack core.ID `json:"pack"`
	Why  string  `json:"why"`
}

// BlobIssue is one copy of a blob that failed verification.
type BlobIssue struct {
	Blob core.ID `json:"blob"`
	Pack core.ID `json:"pack"`
	Why  string  `json:"why"`
}

// SnapshotRepair is a damaged snapshot: what it loses and, when applied,
// the snapshot written in its place.
type SnapshotRepair struct {
	ID      core.ID `json:"id"`
	Damaged []Loss  `json:"damaged"`
	// Repaired is the ID of the rewritten snapshot (nil in a dry run).
	Repaired *core.ID `json:"repaired,omitempty"`
	// AlreadyRepaired: a snapshot tagged repaired=<this ID> exists, so it
	// is not rewritten again.
	AlreadyRepaired bool `json:"already_repaired,omitempty"`
	// Unrepairable: its root listing is lost, so nothing of it is left to
	// rewrite; forget it.
	Unrepairable bool `json:"unrepairable,omitempty"`
}

// Loss is one path of a snapshot that needs a lost blob.
type Loss struct {
	Path string  `json:"path"`
	Blob core.ID `json:"blob"`
	Why  string  `json:"why"`
	// Salvaged is set when the file is kept with holes where Blob was.
	Salvaged bool `json:"salvaged"`
}

// Tag marks a repaired snapshot; its value is the original's short ID.
const Tag = "repaired"

// Repair rebuilds the index of r from its packs, finds the snapshots that
// need lost data and, with opts.Apply, writes the new index and repaired
// snapshots. Damage is in the Report; an error means the repair could not
// run (the store failed), and nothing half-done is left that a later run
// does not finish.
func Repair(ctx context.Context, r *repo.Repository, opts Options) (*Report, error) {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	rp := &repairer{r: r, opts: opts, rep: &Report{PacksUnreadable: []PackIssue{}, PacksMissing: []core.ID{},
		BlobsCorrupt: []BlobIssue{}, IndexFilesDamaged: []core.ID{}, Snapshots: []SnapshotRepair{}, SnapshotsUnreadable: []core.ID{}}}
	saver, err := r.NewSaver(ctx, repo.SaverOptions{Purpose: "repair", IndexRefresh: -1})
	if err != nil {
		return nil, err
	}
	defer saver.Close(context.WithoutCancel(ctx))
	rp.saver = saver
	if err := rp.refuseConcurrent(ctx); err != nil {
		return nil, err
	}
	if err := rp.rebuildIndex(ctx); err != nil {
		return nil, err
	}
	if err := rp.snapshots(ctx); err != nil {
		return nil, err
	}
	if opts.Apply {
		if err := rp.commit(ctx); err != nil {
			return nil, err
		}
		rp.rep.Applied = true
	}
	return rp.rep, nil
}

type repairer struct {
	r     *repo.Repository
	opts  Options
	rep   *Report
	saver *repo.Saver
	built *rebuilt
	// rewrites are the damaged snapshots' new records, written by commit.
	rewrites []rewrite
}

// wrap adds what a repair was doing to an error.
func wrap(what string, err error) error {
	return fmt.Errorf("repair: %s: %w", what, err)
}

// refuseConcurrent stops a repair while a prune or another repair runs:
// each rewrites the whole index and would supersede what the other writes.
func (rp *repairer) refuseConcurrent(ctx context.Context) error {
	sessions, err := rp.r.Sessions(ctx)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if s.ID == rp.saver.Session().ID() || s.Stale {
			continue
		}
		if s.Info.Purpose == "prune" || s.Info.Purpose == "repair" {
			return fmt.Errorf("repair: a %s is running (host %s, pid %d); wait for it to finish", s.Info.Purpose, s.Info.Host, s.Info.PID)
		}
	}
	return nil
}
