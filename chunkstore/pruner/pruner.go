package pruner

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// Defaults.
const (
	// DefaultGrace protects unindexed packs: a running writer's packs are
	// unindexed until its next index flush, which happens every 64 packs, so
	// an hour is far beyond any healthy writer's gap.
	DefaultGrace = time.Hour
	// DefaultRepackRatio repacks a pack once this share of its bytes is
	// unreferenced: lower wastes writes, higher wastes storage.
	DefaultRepackRatio = 0.25
	// SkewMargin is added to a marker's creation time when deciding whether a
	// session could have missed it, to absorb clock skew between hosts.
	SkewMargin = repo.StaleAfter
)

// Options tune a prune.
type Options struct {
	Grace       time.Duration
	RepackRatio float64
	DryRun      bool
}

// Result summarises a prune.
type Result struct {
	PacksMarked      int   `json:"packs_marked"`
	PacksRepacked    int   `json:"packs_repacked"`
	PacksDeleted     int   `json:"packs_deleted"`
	PacksRescued     int   `json:"packs_rescued"`
	BytesDeleted     int64 `json:"bytes_deleted"`
	MarkersPending   int   `json:"markers_pending"`
	IndexFilesMerged int   `json:"index_files_merged"`
	// SnapshotsDamaged counts snapshot records that could not be read and
	// so protected nothing.
	SnapshotsDamaged int `json:"snapshots_damaged"`
	// Partial writes and stale session files of dead processes removed.
	LeftoversRemoved     int   `json:"leftovers_removed"`
	LeftoverBytesRemoved int64 `json:"leftover_bytes_removed"`
	SessionsRemoved      int   `json:"sessions_removed"`
}

type pruner struct {
	r    *repo.Repository
	opts Options
	res  Result
	sess *repo.Session
	refs *refs // the referenced set of this run, once built
}

// Prune runs the mark and sweep phases once.
func Prune(ctx context.Context, r *repo.Repository, opts Options) (*Result, error) {
	if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	if opts.RepackRatio == 0 {
		opts.RepackRatio = DefaultRepackRatio
	}
	p := &pruner{r: r, opts: opts}
	defer p.closeRefs()
	saver, err := r.NewSaver(ctx, repo.SaverOptions{Purpose: "prune"})
	if err != nil {
		return nil, err
	}
	defer saver.Close(context.WithoutCancel(ctx))
	p.sess = saver.Session()
	if err := p.refuseConcurrentPrune(ctx); err != nil {
		return nil, err
	}
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	// Lost packs can be neither repacked nor deleted: they are left out of
	// the usage and dropped from the index when it is rewritten.
	if _, err := r.VerifyPacks(ctx); err != nil {
		return nil, err
	}
	if err := p.mark(ctx, saver); err != nil {
		return nil, err
	}
	if opts.DryRun {
		return &p.res, nil
	}
	if err := p.sweep(ctx); err != nil {
		return nil, err
	}
	if err := p.cleanLeftovers(ctx); err != nil {
		return nil, err
	}
	p.removeRefs()
	return &p.res, nil
}

func (p *pruner) refuseConcurrentPrune(ctx context.Context) error {
	sessions, err := p.r.Sessions(ctx)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if s.ID == p.sess.ID() || s.Stale {
			continue
		}
		// A repair rewrites the whole index, as prune's sweep does: the
		// two would each supersede what the other is writing.
		if s.Info.Purpose == "prune" || s.Info.Purpose == "repair" {
			return fmt.Errorf("prune: a %s is running (host %s, pid %d); wait for it to finish", s.Info.Purpose, s.Info.Host, s.Info.PID)
		}
	}
	return nil
}

func compareIDs(a, b core.ID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}
