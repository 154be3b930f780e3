package repairer

import (
	"context"
	"strings"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// dirResult is what a directory becomes: its parts after the repair (the
// original ones if nothing below it is damaged), and what it loses, with
// paths relative to it ("" is the directory itself).
type dirResult struct {
	parts   []core.ID
	changed bool
	// gone: the listing itself is lost, so the directory is dropped.
	gone   bool
	losses []Loss
}

// rewrite is a damaged snapshot's replacement, written by commit.
type rewrite struct {
	orig snapshot.Stored
	tree []core.ID
	rep  int // index in Report.Snapshots
}

// snapshots walks every snapshot against the rebuilt index and plans (with
// Apply, also saves) the trees of the damaged ones.
func (rp *repairer) snapshots(ctx context.Context) error {
	all, err := snapshot.List(ctx, rp.r)
	if err != nil {
		return err
	}
	for _, d := range all.Damaged {
		rp.rep.SnapshotsUnreadable = append(rp.rep.SnapshotsUnreadable, d.ID)
	}
	repaired := map[string]bool{}
	for _, s := range all.Snapshots {
		for _, t := range s.Tags {
			if v, ok := strings.CutPrefix(t, Tag+"="); ok {
				repaired[v] = true
			}
		}
	}
	memo := map[string]dirResult{}
	for _, s := range all.Snapshots {
		res, err := rp.dir(ctx, s.Tree, memo)
		if err != nil {
			return wrap("snapshot "+s.ID.Short(), err)
		}
		if !res.changed && !res.gone {
			continue
		}
		rp.rep.Snapshots = append(rp.rep.Snapshots, SnapshotRepair{ID: s.ID, Damaged: res.losses,
			AlreadyRepaired: repaired[s.ID.Short()], Unrepairable: res.gone})
		// A snapshot already repaired is not repaired again by every run;
		// nor is one whose root listing is lost, which leaves nothing.
		if res.gone || repaired[s.ID.Short()] || !rp.opts.Apply {
			continue
		}
		rp.rewrites = append(rp.rewrites, rewrite{orig: s, tree: res.parts, rep: len(rp.rep.Snapshots) - 1})
	}
	return nil
}

func partsKey(parts []core.ID) string {
	var b strings.Builder
	for _, p := range parts {
		b.Write(p[:])
	}
	return b.String()
}

// dir repairs one directory, each distinct one once.
func (rp *repairer) dir(ctx context.Context, parts []core.ID, memo map[string]dirResult) (dirResult, error) {
	key := partsKey(parts)
	if r, ok := memo[key]; ok {
		return r, nil
	}
	nodes, err := snapshot.LoadTree(ctx, rp.r, parts)
	if err != nil {
		if !isDamage(err) {
			return dirResult{}, err
		}
		lost, why := rp.lostPart(parts)
		r := dirResult{gone: true, changed: true, losses: []Loss{{Blob: lost, Why: "directory listing: " + why}}}
		memo[key] = r
		return r, nil
	}
	r := dirResult{parts: parts}
	var keep []*snapshot.Node
	for _, n := range nodes {
		kept, losses, changed, err := rp.node(ctx, n, memo)
		if err != nil {
			return dirResult{}, err
		}
		for _, l := range losses {
			l.Path = "/" + n.Name + l.Path
			r.losses = append(r.losses, l)
		}
		r.changed = r.changed || changed
		if kept != nil {
			keep = append(keep, kept)
		}
	}
	if r.changed && rp.opts.Apply {
		if r.parts, err = snapshot.SaveTree(rp.saver, rp.r.NewHasher().Sum, keep); err != nil {
			return dirResult{}, err
		}
	}
	memo[key] = r
	return r, nil
}

// node repairs one entry: it returns the node to keep (nil to drop it),
// what it loses, and whether it changed.
func (rp *repairer) node(ctx context.Context, n *snapshot.Node, memo map[string]dirResult) (*snapshot.Node, []Loss, bool, error) {
	switch n.Type {
	case snapshot.TypeDir:
		sub, err := rp.dir(ctx, n.Subtree, memo)
		if err != nil || !sub.changed {
			return n, nil, false, err
		}
		if sub.gone {
			return nil, sub.losses, true, nil
		}
		c := *n
		c.Subtree = sub.parts
		return &c, sub.losses, true, nil
	case snapshot.TypeFile:
		return rp.file(ctx, n)
	}
	return n, nil, false, nil
}

// lostPart names the part of a directory listing that cannot be loaded.
func (rp *repairer) lostPart(parts []core.ID) (core.ID, string) {
	for _, p := range parts {
		if !rp.r.Index().Has(p) {
			return p, rp.built.why(p)
		}
	}
	var first core.ID
	if len(parts) > 0 {
		first = parts[0]
	}
	return first, "it is corrupt"
}
