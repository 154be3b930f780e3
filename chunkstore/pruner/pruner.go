package pruner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
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

// referenced returns every blob the current snapshots use.
func (p *pruner) referenced(ctx context.Context) (map[core.ID]struct{}, error) {
	used := map[core.ID]struct{}{}
	all, err := snapshot.List(ctx, p.r)
	if err != nil {
		return nil, err
	}
	// A damaged record cannot say what it references, and nothing can
	// restore it any more: its data is kept only as far as other snapshots
	// use it. The other snapshots must not pay for it by never being
	// pruned.
	for _, d := range all.Damaged {
		p.r.Warn(fmt.Errorf("prune: %w; prune frees the data only it used", d))
	}
	p.res.SnapshotsDamaged = len(all.Damaged)
	// Every listed snapshot was written after the index files covering it,
	// so reloading now makes all of its blobs findable.
	if err := p.r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	for _, s := range all.Snapshots {
		if err := p.addTree(ctx, s.Tree, used); err != nil {
			return nil, fmt.Errorf("prune: snapshot %s: %w; prune needs every snapshot it can read whole, retry when the store answers", s.ID.Short(), err)
		}
	}
	return used, nil
}

// damaged reports whether err says repository data is lost or corrupt, as
// opposed to the store failing to deliver it. Prune goes on past damage
// (nothing can read what is below a lost tree, so it protects nothing),
// never past a failure, which would make live data look unreferenced.
func damaged(err error) bool {
	return errors.Is(err, repo.ErrBlobMissing) || errors.Is(err, repo.ErrCorrupt)
}

func (p *pruner) addTree(ctx context.Context, parts []core.ID, used map[core.ID]struct{}) error {
	if len(parts) > 0 {
		if _, ok := used[parts[0]]; ok {
			return nil // trees are content-addressed: seen once, seen whole
		}
	}
	for _, id := range parts {
		used[id] = struct{}{}
	}
	nodes, err := snapshot.LoadTree(ctx, p.r, parts)
	if err != nil && damaged(err) {
		p.r.Warn(fmt.Errorf("prune: a directory tree is lost (%w); what only it referenced is freed, 'cairn repo check' names the snapshots affected", err))
		return nil
	}
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := p.addNode(ctx, n, used); err != nil {
			return err
		}
	}
	return nil
}

func (p *pruner) addNode(ctx context.Context, n *snapshot.Node, used map[core.ID]struct{}) error {
	if n.Type == snapshot.TypeDir {
		return p.addTree(ctx, n.Subtree, used)
	}
	for _, id := range n.ContentLists {
		used[id] = struct{}{}
	}
	exts, err := snapshot.Extents(ctx, p.r, n)
	if err != nil && damaged(err) {
		p.r.Warn(fmt.Errorf("prune: the content list of %q is lost (%w)", n.Name, err))
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range exts {
		for _, id := range e.Chunks {
			used[id] = struct{}{}
		}
	}
	return nil
}

// packUsage classifies the indexed packs by how much of them is referenced.
type packUsage struct {
	unused  []core.ID
	partial []core.ID
	blobs   map[core.ID][]index.Blob
}

func (p *pruner) usage(full *index.Index, used map[core.ID]struct{}) packUsage {
	u := packUsage{blobs: full.PackBlobs()}
	for pk, blobs := range u.blobs {
		if p.r.Excluded(pk) || p.r.Missing(pk) {
			continue
		}
		var live, dead int64
		for _, b := range blobs {
			if _, ok := used[b.ID]; ok {
				live += int64(b.Length)
			} else {
				dead += int64(b.Length)
			}
		}
		switch {
		case live == 0:
			u.unused = append(u.unused, pk)
		case float64(dead) >= p.opts.RepackRatio*float64(live+dead):
			u.partial = append(u.partial, pk)
		}
	}
	slices.SortFunc(u.unused, func(a, b core.ID) int { return compareIDs(a, b) })
	return u
}

func compareIDs(a, b core.ID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}
