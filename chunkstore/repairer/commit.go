package repairer

import (
	"context"
	"slices"

	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// commit writes what the repair planned, in the order every writer keeps:
// the index, the trees' packs and their index, then the snapshots.
func (rp *repairer) commit(ctx context.Context) error {
	if err := rp.writeIndex(ctx); err != nil {
		return err
	}
	if err := rp.saver.Flush(ctx); err != nil {
		return wrap("store repaired trees", err)
	}
	if err := rp.saver.Session().Healthy(); err != nil {
		return err
	}
	for _, w := range rp.rewrites {
		s := *w.orig.Snapshot
		s.Tree = w.tree
		s.Tags = append(slices.Clone(s.Tags), Tag+"="+w.orig.ID.Short())
		s.Program = "cairn repo repair"
		id, err := rp.r.SaveJSON(ctx, repo.KindSnapshot, &s)
		if err != nil {
			return wrap("write repaired snapshot of "+w.orig.ID.Short(), err)
		}
		rp.rep.Snapshots[w.rep].Repaired = &id
	}
	return nil
}
