package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// StoreOptions describe the snapshot Store writes.
type StoreOptions struct {
	// Hostname is recorded on the snapshot; empty means this host's name.
	Hostname string
	Tags     []string
}

// program is recorded on resources snapshots.
const program = "cairn controller (resources)"

// Fixed metadata of the tree's nodes. Nothing in a node depends on when or
// where Store ran, so an unchanged object yields the same file node, an
// unchanged namespace the same tree blob, and so on up to the root.
const (
	fileMode = 0o644
	dirMode  = 0o755
)

// Store writes items as a new snapshot of the tree described in the package
// documentation and returns the snapshot's ID. Each object is stored as the
// compact JSON of its fields with keys sorted (encoding/json sorts map
// keys), so an unchanged object dedups with earlier backups.
//
// The tree is written straight into the repository rather than through a
// temporary directory and the archiver: a file system would put ctime and
// inode numbers into every node (and keep Secrets on the controller's disk).
func Store(ctx context.Context, r *repo.Repository, items []Item, opts StoreOptions) (string, error) {
	root := newDir()
	for _, it := range items {
		if err := checkItem(it); err != nil {
			return "", fmt.Errorf("store resources: %w", err)
		}
		data, err := json.Marshal(it.Object.Object)
		if err != nil {
			return "", fmt.Errorf("store resources: encode %s: %w", it.Path(), err)
		}
		if err := root.add(it.pathParts(), data); err != nil {
			return "", fmt.Errorf("store resources: %s: %w", it.Path(), err)
		}
	}
	id, err := writeSnapshot(ctx, r, root, opts)
	if err != nil {
		return "", fmt.Errorf("store resources in %s: %w", r.Location(), err)
	}
	return id.String(), nil
}

// dir is an in-memory directory of the tree being stored.
type dir struct {
	dirs  map[string]*dir
	files map[string][]byte
}

func newDir() *dir { return &dir{dirs: map[string]*dir{}, files: map[string][]byte{}} }

// add puts data at the path parts (the last one is the file name).
func (d *dir) add(parts []string, data []byte) error {
	for _, p := range parts[:len(parts)-1] {
		sub := d.dirs[p]
		if sub == nil {
			sub = newDir()
			d.dirs[p] = sub
		}
		d = sub
	}
	name := parts[len(parts)-1]
	if _, dup := d.files[name]; dup {
		return fmt.Errorf("two items have this path")
	}
	d.files[name] = data
	return nil
}

// writeSnapshot follows the writer rules of FORMAT.md §9: session, index,
// adoption of unindexed packs, blobs, index files, then the snapshot last.
func writeSnapshot(ctx context.Context, r *repo.Repository, root *dir, opts StoreOptions) (id core.ID, err error) {
	start := r.Clock().Now()
	if err := r.LoadIndex(ctx); err != nil {
		return id, err
	}
	saver, err := r.NewSaver(ctx, repo.SaverOptions{Purpose: "backup"})
	if err != nil {
		return id, err
	}
	defer func() {
		if cerr := saver.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if _, err := r.AdoptUnindexed(ctx, false); err != nil {
		return id, err
	}
	w := &treeWriter{saver: saver, hasher: r.NewHasher(), splitter: r.NewSplitter(), segment: r.Config().SegmentSize}
	tree, err := w.saveRoot(root)
	if err != nil {
		return id, err
	}
	if err := saver.Flush(ctx); err != nil {
		return id, err
	}
	if err := saver.Session().Healthy(); err != nil {
		return id, err
	}
	snap := w.record(r, start, tree, opts)
	if id, err = r.SaveJSON(ctx, repo.KindSnapshot, snap); err != nil {
		return id, fmt.Errorf("write snapshot: %w", err)
	}
	return id, nil
}

// treeWriter stores the blobs of one tree, from one goroutine: the objects
// of a cluster are small and few next to volume data, and the Saver's
// uploaders already overlap the network with the encoding.
type treeWriter struct {
	saver    *repo.Saver
	hasher   *chunker.Hasher
	splitter *chunker.Splitter
	segment  int
	stats    snapshot.Stats
}

func (w *treeWriter) hash(b []byte) core.ID { return w.hasher.Sum(b) }

// saveRoot stores root as the TreeRoot directory and returns the snapshot's
// top-level tree.
func (w *treeWriter) saveRoot(root *dir) ([]core.ID, error) {
	sub, err := w.saveDir(root)
	if err != nil {
		return nil, err
	}
	top := &snapshot.Node{Name: TreeRoot, Type: snapshot.TypeDir, Mode: dirMode, Subtree: sub}
	return snapshot.SaveTree(w.saver, w.hash, []*snapshot.Node{top})
}

// saveDir stores d's files and subdirectories and returns d's tree parts.
func (w *treeWriter) saveDir(d *dir) ([]core.ID, error) {
	w.stats.Dirs++
	nodes := make([]*snapshot.Node, 0, len(d.dirs)+len(d.files))
	for name, sub := range d.dirs {
		ids, err := w.saveDir(sub)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, &snapshot.Node{Name: name, Type: snapshot.TypeDir, Mode: dirMode, Subtree: ids})
	}
	for name, data := range d.files {
		n, err := w.saveFile(name, data)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return snapshot.SaveTree(w.saver, w.hash, nodes)
}

// saveFile chunks data as FORMAT.md §4 says for a file with no holes:
// segments of the configured size, each cut by the chunker. An object is
// far below the segment size (etcd caps objects at about 1.5 MiB), so in
// practice this is one segment and usually one chunk.
func (w *treeWriter) saveFile(name string, data []byte) (*snapshot.Node, error) {
	n := &snapshot.Node{Name: name, Type: snapshot.TypeFile, Mode: fileMode, Size: int64(len(data))}
	var exts []snapshot.Extent
	for off := 0; off < len(data); off += w.segment {
		seg := data[off:min(off+w.segment, len(data))]
		pos := off
		err := w.splitter.Split(seg, func(chunk []byte) error {
			id := w.hash(chunk)
			if _, err := w.saver.Save(core.DataBlob, id, chunk); err != nil {
				return err
			}
			exts = appendChunk(exts, int64(pos), id)
			pos += len(chunk)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", name, err)
		}
	}
	if err := snapshot.SetContent(w.saver, w.hash, n, exts); err != nil {
		return nil, err
	}
	w.stats.Files++
	w.stats.Bytes += n.Size
	return n, nil
}

// appendChunk adds the next chunk of a file with no holes, starting at
// off, to the last extent unless that one is full.
func appendChunk(exts []snapshot.Extent, off int64, id core.ID) []snapshot.Extent {
	if k := len(exts) - 1; k >= 0 && len(exts[k].Chunks) < snapshot.MaxExtentChunks {
		exts[k].Chunks = append(exts[k].Chunks, id)
		return exts
	}
	return append(exts, snapshot.Extent{Offset: off, Chunks: []core.ID{id}})
}

// record is the snapshot record for a tree written since start.
func (w *treeWriter) record(r *repo.Repository, start time.Time, tree []core.ID, opts StoreOptions) *snapshot.Snapshot {
	host := opts.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	end := r.Clock().Now()
	st := w.stats
	st.BytesRead = st.Bytes
	st.BytesAdded = w.saver.Stats.BytesNew.Load()
	st.BytesStored = w.saver.Stats.BytesStored.Load()
	st.BlobsNew = w.saver.Stats.BlobsNew.Load()
	st.DurationSeconds = end.Sub(start).Seconds()
	return &snapshot.Snapshot{Version: snapshot.Version, Kind: snapshot.KindFiles, Time: start, EndTime: end,
		Hostname: host, Paths: []string{TreeRoot}, Tags: opts.Tags, Tree: tree, Stats: st, Program: program}
}
