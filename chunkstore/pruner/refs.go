package pruner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/internal/idset"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// refsPrefix names the referenced-blob sets prune keeps in the repository's
// temporary directory (the index cache, with --max-memory).
const refsPrefix = "prune-refs-"

// refs is the set of blobs the snapshots reference, on disk.
type refs struct {
	key  string
	path string
	set  *idset.Set
}

// snapshotsKey names the referenced set of a list of snapshots. Snapshots
// are immutable, so the same list references the same blobs.
func snapshotsKey(ids []core.ID) string {
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, compareIDs)
	h := sha256.New()
	for _, id := range sorted {
		h.Write(id[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// referenced returns the set of blobs the current snapshots use. The set
// is built with an external sort within the memory budget and kept on
// disk under a name derived from the snapshot list: a prune killed after
// building it, or a sweep right after its own mark, reuses it as long as
// the snapshots have not changed.
func (p *pruner) referenced(ctx context.Context) (*idset.Set, error) {
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
	ids := make([]core.ID, len(all.Snapshots))
	for i, s := range all.Snapshots {
		ids[i] = s.ID
	}
	key := snapshotsKey(ids)
	if p.refs != nil && p.refs.key == key {
		return p.refs.set, nil
	}
	p.closeRefs()
	dir, err := p.r.TempDir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, refsPrefix+key)
	set, err := idset.Open(path)
	if err != nil {
		if set, err = p.buildRefs(ctx, dir, path, all.Snapshots); err != nil {
			return nil, err
		}
	}
	p.refs = &refs{key: key, path: path, set: set}
	return set, nil
}

func (p *pruner) buildRefs(ctx context.Context, dir, path string, snaps []snapshot.Stored) (*idset.Set, error) {
	removeRefs(dir, "")
	b, err := idset.NewBuilder(dir, p.r.MaxMemory()/2)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	w := &refWalk{p: p, b: b, seen: map[core.ID]struct{}{}}
	for _, s := range snaps {
		if err := w.tree(ctx, s.Tree); err != nil {
			return nil, fmt.Errorf("prune: snapshot %s: %w; prune needs every snapshot it can read whole, retry when the store answers", s.ID.Short(), err)
		}
	}
	return b.Finish(path)
}

// removeRefs deletes referenced sets in dir other than keep ("" for all).
func removeRefs(dir, keep string) {
	names, _ := filepath.Glob(filepath.Join(dir, refsPrefix+"*"))
	for _, n := range names {
		if n != keep {
			os.Remove(n)
		}
	}
}

func (p *pruner) closeRefs() {
	if p.refs != nil {
		p.refs.set.Close()
		p.refs = nil
	}
}

// removeRefs drops this run's set once the prune finished: the next run
// reads the snapshots anew.
func (p *pruner) removeRefs() {
	if p.refs != nil {
		path := p.refs.path
		p.closeRefs()
		os.Remove(path)
	}
}

// refWalk adds every blob below a snapshot's trees to the set. seen holds
// the first part of each directory walked: trees are content-addressed,
// so one seen once is seen whole.
type refWalk struct {
	p    *pruner
	b    *idset.Builder
	seen map[core.ID]struct{}
}

func (w *refWalk) add(ids ...core.ID) error {
	for _, id := range ids {
		if err := w.b.Add(id); err != nil {
			return err
		}
	}
	return nil
}

func (w *refWalk) tree(ctx context.Context, parts []core.ID) error {
	if len(parts) > 0 {
		if _, ok := w.seen[parts[0]]; ok {
			return nil
		}
		w.seen[parts[0]] = struct{}{}
	}
	if err := w.add(parts...); err != nil {
		return err
	}
	nodes, err := snapshot.LoadTree(ctx, w.p.r, parts)
	if err != nil && damaged(err) {
		w.p.r.Warn(fmt.Errorf("prune: a directory tree is lost (%w); what only it referenced is freed, 'cairn repo check' names the snapshots affected", err))
		return nil
	}
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := w.node(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (w *refWalk) node(ctx context.Context, n *snapshot.Node) error {
	if n.Type == snapshot.TypeDir {
		return w.tree(ctx, n.Subtree)
	}
	if err := w.add(n.ContentLists...); err != nil {
		return err
	}
	exts, err := snapshot.Extents(ctx, w.p.r, n)
	if err != nil && damaged(err) {
		w.p.r.Warn(fmt.Errorf("prune: the content list of %q is lost (%w)", n.Name, err))
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range exts {
		if err := w.add(e.Chunks...); err != nil {
			return err
		}
	}
	return nil
}

// damaged reports whether err says repository data is lost or corrupt, as
// opposed to the store failing to deliver it. Prune goes on past damage
// (nothing can read what is below a lost tree, so it protects nothing),
// never past a failure, which would make live data look unreferenced.
func damaged(err error) bool {
	return errors.Is(err, repo.ErrBlobMissing) || errors.Is(err, repo.ErrCorrupt)
}
