package archiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/fsmeta"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// walkRoots backs up each path as a node of the root directory.
func (p *pipeline) walkRoots(ctx context.Context, paths []string) error {
	p.root = newDirJob(&snapshot.Node{Name: "/", Type: snapshot.TypeDir})
	parent, err := p.parentRoot(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, path := range paths {
		name := filepath.Base(filepath.Clean(path))
		if name == "/" || name == "." {
			name = "root"
		}
		if seen[name] {
			return fmt.Errorf("backup: two paths have the same base name %q; back them up separately", name)
		}
		seen[name] = true
		e := p.inspect(ctx, filepath.Clean(path), name, parent[name])
		if err := p.walkEntry(ctx, p.root, e, inline); err != nil {
			return err
		}
	}
	p.root.release()
	return p.sendDir(ctx, p.root)
}

func (p *pipeline) parentRoot(ctx context.Context) (map[string]*snapshot.Node, error) {
	if p.a.opts.Parent == nil {
		return nil, nil
	}
	nodes, err := snapshot.LoadTree(ctx, p.a.r, p.a.opts.Parent.Tree)
	if err != nil {
		return nil, fmt.Errorf("load parent snapshot: %w", err)
	}
	return byName(nodes), nil
}

func byName(nodes []*snapshot.Node) map[string]*snapshot.Node {
	m := make(map[string]*snapshot.Node, len(nodes))
	for _, n := range nodes {
		m[n.Name] = n
	}
	return m
}

// entryInfo is what the system calls tell about one directory entry. It is
// gathered apart from the walk so that a directory's entries can be looked
// at in parallel.
type entryInfo struct {
	path, name string
	meta       fsmeta.Meta
	xattrs     []snapshot.Xattr
	link       string
	err        error          // set when the entry cannot be backed up
	errOp      string         // what failed, for the warning
	prev       *snapshot.Node // the parent snapshot's entry of this name
	// prevChildren are the entries of the parent snapshot's directory of
	// the same name, loaded here too because parsing them is a large share
	// of an incremental walk.
	prevChildren map[string]*snapshot.Node
	prevErr      error
}

// inspect reads the metadata of the entry at path and, for a directory, the
// parent snapshot's listing of it.
func (p *pipeline) inspect(ctx context.Context, path, name string, prev *snapshot.Node) entryInfo {
	e := entryInfo{path: path, name: name, prev: prev}
	if e.meta, e.err = fsmeta.Lstat(path); e.err != nil {
		e.errOp = "stat"
		return e
	}
	if e.meta.Kind == fsmeta.KindDir && prev != nil && prev.Type == snapshot.TypeDir && !p.a.opts.Block {
		nodes, err := snapshot.LoadTree(ctx, p.a.r, prev.Subtree)
		if err != nil {
			e.prevErr = fmt.Errorf("load parent tree of %s: %w", path, err)
		}
		e.prevChildren = byName(nodes)
	}
	e.xattrs = p.xattrs(path, e.meta, prev)
	if e.meta.Kind == fsmeta.KindSymlink && !p.a.opts.Block {
		if e.link, e.err = os.Readlink(path); e.err != nil {
			e.errOp = "read link"
		}
	}
	return e
}

// xattrs returns the extended attributes of the entry at path. Setting or
// removing one changes the inode's ctime, so an entry whose inode and ctime
// match the parent snapshot's has the parent's: that spares an unchanged
// tree one system call per entry.
func (p *pipeline) xattrs(path string, meta fsmeta.Meta, prev *snapshot.Node) []snapshot.Xattr {
	if prev != nil && !p.a.opts.Block && prev.Type == meta.Kind.String() &&
		prev.Inode == meta.Inode && prev.CtimeNs == meta.CtimeNs && prev.DeviceID == meta.Dev {
		return prev.Xattrs
	}
	xs, err := fsmeta.ListXattrs(path)
	if err != nil {
		p.a.warnPath("read xattrs of", path, err)
		return nil
	}
	var out []snapshot.Xattr
	for _, x := range xs {
		out = append(out, snapshot.Xattr{Name: x.Name, Value: x.Value})
	}
	return out
}

// inspectAll inspects the entries of the directory at dir, several at a
// time: on a tree of small unchanged files the walk is nothing but these
// system calls.
func (p *pipeline) inspectAll(ctx context.Context, dir string, entries []os.DirEntry, prev map[string]*snapshot.Node) []entryInfo {
	infos := make([]entryInfo, len(entries))
	stripe := func(first, step int) {
		for i := first; i < len(entries); i += step {
			name := entries[i].Name()
			infos[i] = p.inspect(ctx, filepath.Join(dir, name), name, prev[name])
		}
	}
	parallel := min(inspectParallel, len(entries)/inspectMinPerGoroutine)
	if parallel <= 1 {
		stripe(0, 1)
		return infos
	}
	var wg sync.WaitGroup
	for g := range parallel {
		wg.Go(func() { stripe(g, parallel) })
	}
	wg.Wait()
	return infos
}

// inspectParallel bounds the goroutines inspecting one directory; each needs
// inspectMinPerGoroutine entries to be worth starting.
const (
	inspectParallel        = 4
	inspectMinPerGoroutine = 4
)

// inline runs a directory's walk in the caller's goroutine.
func inline(walk func() error) error { return walk() }

// walkEntry adds the entry at path to dir, queueing files and handing
// subdirectories to spawn, which walks them now or in another goroutine.
func (p *pipeline) walkEntry(ctx context.Context, dir *dirJob, e entryInfo, spawn func(func() error) error) error {
	if e.prevErr != nil {
		return e.prevErr
	}
	if e.err != nil {
		p.a.warnPath(e.errOp, e.path, e.err)
		return nil
	}
	node := nodeFromMeta(e.name, e.meta)
	node.Xattrs = e.xattrs
	switch {
	case p.a.opts.Block:
		node.Type = snapshot.TypeFile // a device is stored as the image of its bytes
		return p.queueFile(ctx, dir, node, e.path, e.prev)
	case node.Type == snapshot.TypeDir:
		// The node takes its place among its siblings now; its subtree
		// is filled in when the walk below it is done.
		dir.nodes = append(dir.nodes, node)
		return spawn(func() error { return p.walkDir(ctx, node, e.path, e.prevChildren) })
	case node.Type == snapshot.TypeSymlink:
		node.LinkTarget = e.link
	case node.Type == snapshot.TypeFile:
		return p.queueFile(ctx, dir, node, e.path, e.prev)
	}
	dir.nodes = append(dir.nodes, node)
	return nil
}

// walkDir lists the directory at path into a dirJob for the finisher.
// Subdirectories are walked in parallel while walker slots are free (on a
// tree of unchanged small files the walk is the whole backup), and the
// directory is queued only after them, so the finisher still sees every
// directory after its children.
func (p *pipeline) walkDir(ctx context.Context, node *snapshot.Node, path string, prevChildren map[string]*snapshot.Node) error {
	entries, err := os.ReadDir(path)
	if err != nil {
		p.a.warnPath("list directory", path, err)
		return nil
	}
	d := newDirJob(node)
	var kids errgroup.Group
	spawn := func(walk func() error) error {
		if !p.walkers.TryAcquire(1) {
			return walk()
		}
		kids.Go(func() error {
			defer p.walkers.Release(1)
			return walk()
		})
		return nil
	}
	for _, e := range p.inspectAll(ctx, path, entries, prevChildren) {
		if err := p.walkEntry(ctx, d, e, spawn); err != nil {
			_ = kids.Wait()
			return err
		}
	}
	if err := kids.Wait(); err != nil {
		return err
	}
	p.a.addStats(func(s *snapshot.Stats) { s.Dirs++ })
	d.release()
	return p.sendDir(ctx, d)
}

func nodeFromMeta(name string, m fsmeta.Meta) *snapshot.Node {
	return &snapshot.Node{Name: name, Type: m.Kind.String(), Mode: m.Mode, UID: m.UID, GID: m.GID,
		Size: m.Size, MtimeNs: m.MtimeNs, CtimeNs: m.CtimeNs, Inode: m.Inode, DeviceID: m.Dev,
		Links: m.Nlink, Rdev: m.Rdev}
}

// unchanged reports whether a file can reuse the parent's content: same
// size, times, inode and type (size and mtime only with IgnoreInode), and
// all referenced blobs still indexed.
func (p *pipeline) unchanged(node, prev *snapshot.Node) bool {
	if prev == nil || prev.Type != snapshot.TypeFile || prev.Size != node.Size || prev.MtimeNs != node.MtimeNs {
		return false
	}
	if !p.a.opts.IgnoreInode && (prev.CtimeNs != node.CtimeNs || prev.Inode != node.Inode) {
		return false
	}
	for _, id := range prev.ContentLists {
		if !p.a.r.HasUsable(id) {
			return false
		}
	}
	for _, e := range prev.Content {
		for _, id := range e.Chunks {
			if !p.a.r.HasUsable(id) {
				return false
			}
		}
	}
	return true
}

// queueFile reuses the parent's content or splits the file into segments
// for the workers.
func (p *pipeline) queueFile(ctx context.Context, dir *dirJob, node *snapshot.Node, path string, prev *snapshot.Node) error {
	p.a.addStats(func(s *snapshot.Stats) { s.Files++ })
	if !p.a.opts.Block && p.unchanged(node, prev) {
		node.Content, node.ContentLists = prev.Content, prev.ContentLists
		p.a.addStats(func(s *snapshot.Stats) { s.Bytes += node.Size })
		dir.nodes = append(dir.nodes, node)
		return nil
	}
	f, err := fsmeta.OpenSource(path)
	if err != nil {
		p.a.warnPath("open", path, err)
		p.a.addStats(func(s *snapshot.Stats) { s.Files-- })
		return nil
	}
	if p.a.opts.Block && p.a.opts.BlockRanges != nil {
		return p.queueRanged(ctx, dir, node, path, f, prev)
	}
	segs, zeroSkip, err := p.segments(f, node)
	if err != nil {
		f.Close()
		p.a.warnPath("read", path, err)
		return nil
	}
	p.a.prog.BytesTotal.Add(node.Size)
	return p.queueSegments(ctx, dir, &fileJob{node: node, path: path, f: f, dir: dir, zeroSkip: zeroSkip}, segs)
}

// queueRanged queues the ranges of a block image that opts.BlockRanges
// names. Unlike a file that cannot be read, an image whose ranges cannot
// be planned fails the backup: leaving it out would store an empty volume.
func (p *pipeline) queueRanged(ctx context.Context, dir *dirJob, node *snapshot.Node, path string, f *os.File, prev *snapshot.Node) error {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return fmt.Errorf("back up %s: size: %w", path, err)
	}
	node.Size = size
	plan, err := p.planBlockRanges(ctx, f, size, prev)
	if err != nil {
		f.Close()
		return fmt.Errorf("back up %s: %w", path, err)
	}
	p.a.prog.BytesTotal.Add(totalLen(plan.segs))
	job := &fileJob{node: node, path: path, f: f, dir: dir, zeroSkip: true, keep: plan.keep}
	if plan.src != nil {
		job.src = plan.src
	}
	return p.queueSegments(ctx, dir, job, plan.segs)
}

// queueSegments hands a file's segments to the workers; a file with none
// is complete at once (with the parent's kept extents, if any).
func (p *pipeline) queueSegments(ctx context.Context, dir *dirJob, job *fileJob, segs []fsmeta.Extent) error {
	node := job.node
	p.a.addStats(func(s *snapshot.Stats) { s.Bytes += node.Size })
	dir.nodes = append(dir.nodes, node)
	if len(segs) == 0 {
		job.f.Close()
		p.a.prog.FilesDone.Add(1)
		if len(job.keep) == 0 {
			return nil
		}
		return snapshot.SetContent(p.a.saver, p.a.r.NewHasher().Sum, node, job.keep)
	}
	job.results = make([][]snapshot.Extent, len(segs))
	job.remaining.Store(int64(len(segs)))
	p.opened(job)
	dir.hold()
	for i, s := range segs {
		if err := p.sendTask(ctx, task{file: job, seg: i, off: s.Offset, length: s.Length}); err != nil {
			return err
		}
	}
	return nil
}

// segments cuts a file's data into pieces of at most SegmentSize that never
// span a hole. Block images and sparse files also skip zero runs.
func (p *pipeline) segments(f *os.File, node *snapshot.Node) ([]fsmeta.Extent, bool, error) {
	size := node.Size
	if p.a.opts.Block {
		end, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, false, err
		}
		size, node.Size = end, end
	}
	exts := []fsmeta.Extent{{Offset: 0, Length: size}}
	sparse := false
	if size >= chunker.MinSize {
		var err error
		if exts, err = fsmeta.DataExtents(f, size); err != nil && !errors.Is(err, fs.ErrInvalid) {
			return nil, false, err
		}
		sparse = totalLen(exts) < size
	}
	var segs []fsmeta.Extent
	for _, e := range exts {
		for off := e.Offset; off < e.Offset+e.Length; off += chunker.SegmentSize {
			segs = append(segs, fsmeta.Extent{Offset: off, Length: min(chunker.SegmentSize, e.Offset+e.Length-off)})
		}
	}
	return segs, sparse || p.a.opts.Block, nil
}

func totalLen(exts []fsmeta.Extent) int64 {
	var n int64
	for _, e := range exts {
		n += e.Length
	}
	return n
}
