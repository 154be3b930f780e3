package checker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// finding is a damaged path below a directory, relative to it ("" is the
// directory itself).
type finding struct {
	path string
	blob core.ID
	why  string
}

// checkSnapshots walks every snapshot and names, for each, every path that
// needs a lost or corrupt blob. Directories are content-addressed, so each
// one is walked once and its findings reused wherever it appears again:
// the cost stays that of the distinct trees, yet every snapshot that
// shares a damaged directory is named.
func (c *checker) checkSnapshots(ctx context.Context) error {
	ids, err := c.r.ListFiles(ctx, "snapshots")
	if err != nil {
		return err
	}
	c.rep.Snapshots = len(ids)
	memo := map[string][]finding{}
	for _, id := range ids {
		s, err := snapshot.Load(ctx, c.r, id)
		if errors.Is(err, core.ErrCorrupt) {
			err = snapshot.Damaged{ID: id, Err: err}
		}
		if err != nil {
			c.rep.problem("snapshots/"+id.String(), "%v", err)
			continue
		}
		for _, f := range c.dir(ctx, s.Tree, memo) {
			path := f.path
			if path == "" {
				path = "/"
			}
			c.rep.Damaged = append(c.rep.Damaged, Damaged{Snapshot: id, Path: path, Blob: f.blob, Why: f.why})
			c.rep.problem("snapshot "+id.Short(), "%s cannot be restored whole: blob %s: %s; "+
				"'cairn repo repair' rewrites the snapshot without it", path, f.blob.Short(), f.why)
		}
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

// dir returns the findings below the directory made of parts.
func (c *checker) dir(ctx context.Context, parts []core.ID, memo map[string][]finding) []finding {
	key := partsKey(parts)
	if f, ok := memo[key]; ok {
		return f
	}
	var out []finding
	nodes, err := snapshot.LoadTree(ctx, c.r, parts)
	if err != nil {
		out = []finding{c.treeFinding(parts, err)}
	}
	for _, n := range nodes {
		switch n.Type {
		case snapshot.TypeDir:
			for _, f := range c.dir(ctx, n.Subtree, memo) {
				out = append(out, finding{path: "/" + n.Name + f.path, blob: f.blob, why: f.why})
			}
		case snapshot.TypeFile:
			if f, ok := c.fileOnce(ctx, n, memo); ok {
				out = append(out, f)
			}
		}
	}
	memo[key] = out
	return out
}

// treeFinding names the part of a directory listing that failed to load.
func (c *checker) treeFinding(parts []core.ID, err error) finding {
	for _, p := range parts {
		if why := c.lost(p); why != "" {
			return finding{blob: p, why: "directory listing: " + why}
		}
	}
	var first core.ID
	if len(parts) > 0 {
		first = parts[0]
	}
	return finding{blob: first, why: fmt.Sprintf("directory listing: %v", err)}
}

// fileOnce is file, remembered for files stored in content lists: a large
// file that did not change is listed in many directories and snapshots by
// the same lists, and its chunks are checked once.
func (c *checker) fileOnce(ctx context.Context, n *snapshot.Node, memo map[string][]finding) (finding, bool) {
	if len(n.ContentLists) == 0 {
		return c.file(ctx, n)
	}
	key := "file:" + partsKey(n.ContentLists)
	if f, ok := memo[key]; ok {
		if len(f) == 0 {
			return finding{}, false
		}
		return finding{path: "/" + n.Name, blob: f[0].blob, why: f[0].why}, true
	}
	f, ok := c.file(ctx, n)
	if ok {
		memo[key] = []finding{f}
	} else {
		memo[key] = nil
	}
	return f, ok
}

// file returns the first lost blob of a file's content, with how many
// more there are.
func (c *checker) file(ctx context.Context, n *snapshot.Node) (finding, bool) {
	path := "/" + n.Name
	for _, id := range n.ContentLists {
		if why := c.lost(id); why != "" {
			return finding{path: path, blob: id, why: "content list: " + why}, true
		}
	}
	exts, err := snapshot.Extents(ctx, c.r, n)
	if err != nil {
		return finding{path: path, blob: firstOf(n.ContentLists), why: fmt.Sprintf("content list: %v", err)}, true
	}
	var f finding
	bad := 0
	for _, e := range exts {
		for _, id := range e.Chunks {
			if why := c.lost(id); why != "" {
				if bad == 0 {
					f = finding{path: path, blob: id, why: why}
				}
				bad++
			}
		}
	}
	if bad > 1 {
		f.why += fmt.Sprintf(" (and %d more of its chunks)", bad-1)
	}
	return f, bad > 0
}

func firstOf(ids []core.ID) core.ID {
	if len(ids) == 0 {
		return core.ID{}
	}
	return ids[0]
}
