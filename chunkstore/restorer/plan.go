package restorer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/fsmeta"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// fileOut is a regular file being restored.
type fileOut struct {
	path string
	node *snapshot.Node
	// byWrite: the file is one chunk that covers it exactly, so the single
	// write creates it, sparing a small file a second open.
	byWrite bool
	// device: the target is a block device holding a block image. It is
	// written in place, and the image's holes are zeroed, since a device
	// keeps whatever it held there.
	device bool
	// created: the file was created while it was still being planned,
	// because the plan was cut into batches there.
	created bool
	damaged atomic.Bool
	// chunks are the file's chunks in order, kept for Verify only.
	chunks []chunkRef
}

// chunkRef is one chunk of a file, for verification.
type chunkRef struct {
	off int64
	n   uint32
	id  core.ID
}

func (f *fileOut) markDamaged() { f.damaged.Store(true) }

// target is one place a blob's bytes go.
type target struct {
	file *fileOut
	off  int64
}

// item is one blob needed from a pack, with every place it goes.
type item struct {
	id      core.ID
	loc     index.Location
	targets []target
}

// pending is an entry whose metadata is applied in the finish pass.
type pending struct {
	path string
	node *snapshot.Node
}

type linkKey struct{ dev, ino uint64 }

func (rs *restore) plan(ctx context.Context, snap *snapshot.Snapshot) error {
	nodes, err := rs.resolve(ctx, snap)
	if err != nil {
		return err
	}
	rs.links = map[linkKey]string{}
	items := map[core.ID]*item{}
	if img, ok, err := imageTarget(snap, nodes, rs.opts.Target); err != nil || ok {
		if err != nil {
			return err
		}
		if err := rs.planImage(ctx, img, nodes[0], items); err != nil {
			return err
		}
	} else {
		if err := ensureDir(rs.opts.Target); err != nil {
			return err
		}
		for _, n := range nodes {
			if err := rs.planNode(ctx, rs.opts.Target, n, items); err != nil {
				return err
			}
		}
	}
	rs.groupByPack(items)
	return nil
}

func (rs *restore) groupByPack(items map[core.ID]*item) {
	for _, it := range items {
		rs.packs[it.loc.Pack] = append(rs.packs[it.loc.Pack], it)
	}
	rs.result.PlannedBlobs += int64(len(items))
	rs.result.PlannedPacks += int64(len(rs.packs))
}

// fetchBatch fetches the packs planned so far, unless only planning.
func (rs *restore) fetchBatch(ctx context.Context) error {
	if rs.opts.PlanOnly {
		return nil
	}
	return rs.fetchAll(ctx)
}

// fetchIfFull counts one more planned target (and item, if newItem) and,
// once the plan passes its memory bound, fetches what is planned so far
// and starts a new batch. The file being planned is created first, as
// its data is about to be written. A block device target is planned
// whole: its holes are zeroed from the complete plan.
func (rs *restore) fetchIfFull(ctx context.Context, fo *fileOut, items map[core.ID]*item, newItem bool) error {
	rs.planned += planTargetBytes
	if newItem {
		rs.planned += planItemBytes
	}
	if rs.planned < rs.opts.PlanMemory || fo.device {
		return nil
	}
	if !fo.created {
		if err := createSized(fo.path, fo.node.Size); err != nil {
			return err
		}
		fo.created = true
	}
	rs.groupByPack(items)
	if err := rs.fetchBatch(ctx); err != nil {
		return err
	}
	clear(items)
	rs.packs = map[core.ID][]*item{}
	rs.planned = 0
	rs.batches++
	return nil
}

func (rs *restore) planNode(ctx context.Context, dir string, n *snapshot.Node, items map[core.ID]*item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path := filepath.Join(dir, n.Name)
	if linked, err := rs.linkIfSeen(path, n); linked || err != nil {
		return err
	}
	switch n.Type {
	case snapshot.TypeDir:
		return rs.planDir(ctx, path, n, items)
	case snapshot.TypeFile:
		return rs.planFile(ctx, path, n, items)
	case snapshot.TypeSymlink:
		_ = os.Remove(path)
		if err := os.Symlink(n.LinkTarget, path); err != nil {
			return fmt.Errorf("restore symlink %s: %w", path, err)
		}
	case snapshot.TypeSocket:
		return nil // a socket is recreated by its server, not by a restore
	default:
		_ = os.Remove(path)
		if err := fsmeta.Mknod(path, fsmeta.Meta{Kind: kindOf(n), Mode: n.Mode, Rdev: n.Rdev}); err != nil {
			rs.result.Warnings = append(rs.result.Warnings, fmt.Errorf("restore %s %s: %w", n.Type, path, err))
			return nil
		}
	}
	rs.metas = append(rs.metas, pending{path: path, node: n})
	return nil
}

// linkIfSeen restores a hard link to a file already restored.
func (rs *restore) linkIfSeen(path string, n *snapshot.Node) (bool, error) {
	if n.Type == snapshot.TypeDir || n.Links < 2 || n.Inode == 0 {
		return false, nil
	}
	key := linkKey{n.DeviceID, n.Inode}
	first, ok := rs.links[key]
	if !ok {
		rs.links[key] = path
		return false, nil
	}
	_ = os.Remove(path)
	if err := os.Link(first, path); err != nil {
		return true, fmt.Errorf("restore hard link %s to %s: %w", path, first, err)
	}
	return true, nil
}

func (rs *restore) planDir(ctx context.Context, path string, n *snapshot.Node, items map[core.ID]*item) error {
	if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("restore directory %s: %w", path, err)
	}
	rs.result.Dirs++
	children, err := snapshot.LoadTree(ctx, rs.r, n.Subtree)
	if err != nil && isDamage(err) {
		// The listing is lost: the directory stays, empty, with its
		// metadata, and the rest of the snapshot goes on.
		rs.damage.add(Damage{Path: path, Blob: firstID(n.Subtree), Offset: -1, Err: fmt.Errorf("directory listing: %w", err)})
		children = nil
	} else if err != nil {
		return fmt.Errorf("restore %s: %w", path, err)
	}
	for _, c := range children {
		if err := rs.planNode(ctx, path, c, items); err != nil {
			return err
		}
	}
	rs.metas = append(rs.metas, pending{path: path, node: n})
	return nil
}

func firstID(ids []core.ID) core.ID {
	if len(ids) == 0 {
		return core.ID{}
	}
	return ids[0]
}

func (rs *restore) planFile(ctx context.Context, path string, n *snapshot.Node, items map[core.ID]*item) error {
	fo := &fileOut{path: path, node: n}
	if err := rs.planContent(ctx, fo, items); err != nil {
		return err
	}
	if !fo.byWrite && !fo.created {
		if err := createSized(path, n.Size); err != nil {
			return err
		}
	}
	rs.metas = append(rs.metas, pending{path: path, node: n})
	return nil
}

// planContent maps every chunk of a file to its pack. A chunk the index
// does not have is damage: its range stays a hole, and so does the rest of
// its extent if its length is unknown (the offsets after it depend on it).
func (rs *restore) planContent(ctx context.Context, fo *fileOut, items map[core.ID]*item) error {
	n := fo.node
	rs.files = append(rs.files, fo)
	rs.result.Files++
	rs.result.Bytes += n.Size
	rs.opts.Progress.BytesTotal.Add(n.Size)
	exts, err := snapshot.Extents(ctx, rs.r, n)
	if err != nil && isDamage(err) {
		rs.damage.add(Damage{Path: fo.path, Blob: firstID(n.ContentLists), Offset: -1, Err: fmt.Errorf("content list: %w", err)})
		fo.markDamaged()
		return nil
	} else if err != nil {
		return fmt.Errorf("restore %s: %w", fo.path, err)
	}
	idx := rs.r.Index()
	for _, e := range exts {
		off := e.Offset
		for _, id := range e.Chunks {
			it := items[id]
			if it == nil {
				loc, ok := idx.Lookup(id)
				if !ok {
					lost, known := idx.LookupAny(id)
					rs.missingChunk(fo, id, off, lost, known)
					if !known {
						break // the rest of the extent cannot be placed
					}
					off += int64(lost.RawLength)
					continue
				}
				it = &item{id: id, loc: loc}
				items[id] = it
			}
			it.targets = append(it.targets, target{file: fo, off: off})
			if rs.opts.Verify {
				fo.chunks = append(fo.chunks, chunkRef{off: off, n: it.loc.RawLength, id: id})
			}
			off += int64(it.loc.RawLength)
			if err := rs.fetchIfFull(ctx, fo, items, len(it.targets) == 1); err != nil {
				return err
			}
		}
	}
	// A file with hard links must exist now: its other names link to it
	// while the plan is still being made.
	fo.byWrite = !fo.created && !fo.device && !fo.damaged.Load() && n.Links < 2 && len(exts) == 1 && exts[0].Offset == 0 &&
		len(exts[0].Chunks) == 1 && int64(items[exts[0].Chunks[0]].loc.RawLength) == n.Size
	return nil
}

// missingChunk records a chunk no stored pack holds; lost is where the
// index last had it, if known.
func (rs *restore) missingChunk(fo *fileOut, id core.ID, off int64, lost index.Location, known bool) {
	err := fmt.Errorf("%w: no pack in the store holds it, and the rest of its extent cannot be placed", repo.ErrBlobMissing)
	if known {
		err = fmt.Errorf("%w: pack %s, which held it, is missing from the store", repo.ErrBlobMissing, lost.Pack.Short())
	}
	rs.damage.add(Damage{Path: fo.path, Blob: id, Offset: off, Err: err})
	fo.markDamaged()
}

// createSized creates (or truncates) a file and gives it its final size, so
// ranges never written stay holes. Restores create many small files, so
// this and write use raw descriptors: an os.File would add non-blocking
// setup and a poller registration attempt to every open.
func createSized(path string, size int64) error {
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("restore file: %w", &fs.PathError{Op: "create", Path: path, Err: err})
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		unix.Close(fd)
		err = &fs.PathError{Op: "truncate", Path: path, Err: err}
		if errors.Is(err, syscall.ENOSPC) {
			return fmt.Errorf("restore file: %w; free space on the target", err)
		}
		return fmt.Errorf("restore file: %w", err)
	}
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("restore file: %w", &fs.PathError{Op: "close", Path: path, Err: err})
	}
	return nil
}

func kindOf(n *snapshot.Node) fsmeta.Kind {
	k, _ := fsmeta.ParseKind(n.Type)
	return k
}
