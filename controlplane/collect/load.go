package collect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// maxObjectBytes bounds the size Load believes a stored object has, so a
// damaged tree cannot make it allocate without limit. etcd refuses
// objects over about 1.5 MiB by default; 64 MiB leaves room for clusters
// that raise that limit.
const maxObjectBytes = 64 << 20

// Load reads the objects of a resources snapshot (an ID, a unique prefix,
// or "latest") straight from its trees, sorted as Collect sorts them.
// Group, resource, namespace and name come from each object's path and are
// checked against the object itself. A missing, corrupt or inconsistent
// object fails Load with an error that names its path.
func Load(ctx context.Context, r *repo.Repository, snapshotID string) ([]Item, error) {
	st, err := snapshot.Find(ctx, r, snapshotID)
	if err != nil {
		return nil, fmt.Errorf("load resources snapshot %s: %w", snapshotID, err)
	}
	items, err := loadSnapshot(ctx, r, st.Snapshot)
	if err != nil {
		return nil, fmt.Errorf("load resources snapshot %s: %w", st.ID.Short(), err)
	}
	slices.SortFunc(items, compareItems)
	return items, nil
}

// loadSnapshot registers a reading session, as FORMAT.md §8 asks of
// readers, so a concurrent prune keeps the packs it reads.
func loadSnapshot(ctx context.Context, r *repo.Repository, snap *snapshot.Snapshot) (items []Item, err error) {
	sess, err := r.StartSession(ctx, "restore")
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := sess.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	top, err := snapshot.LoadTree(ctx, r, snap.Tree)
	if err != nil {
		return nil, fmt.Errorf("read top directory: %w", err)
	}
	i := slices.IndexFunc(top, func(n *snapshot.Node) bool { return n.Name == TreeRoot })
	if i < 0 || top[i].Type != snapshot.TypeDir {
		return nil, fmt.Errorf("no %s/ directory: this is not a snapshot of API objects", TreeRoot)
	}
	l := &loader{r: r}
	if err := l.walk(ctx, top[i].Subtree, []string{TreeRoot}); err != nil {
		return nil, err
	}
	return l.items, nil
}

type loader struct {
	r     *repo.Repository
	items []Item
}

// walk descends resources/<group>/<resource>/<namespace>/ and loads the
// files at the bottom.
func (l *loader) walk(ctx context.Context, parts []core.ID, dir []string) error {
	nodes, err := snapshot.LoadTree(ctx, l.r, parts)
	if err != nil {
		return fmt.Errorf("read directory %s: %w", strings.Join(dir, "/"), err)
	}
	for _, n := range nodes {
		p := append(slices.Clone(dir), n.Name)
		path := strings.Join(p, "/")
		want := snapshot.TypeDir
		if len(p) == 5 {
			want = snapshot.TypeFile
		}
		if n.Type != want {
			return fmt.Errorf("%s: a %s where the layout has a %s", path, n.Type, want)
		}
		if want == snapshot.TypeDir {
			err = l.walk(ctx, n.Subtree, p)
		} else {
			err = l.loadFile(ctx, p, n)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// loadFile reads one object; p is its path from TreeRoot to the file name.
func (l *loader) loadFile(ctx context.Context, p []string, n *snapshot.Node) error {
	path := strings.Join(p, "/")
	loc, err := parseLocation(p[1], p[2], p[3], p[4])
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	data, err := readContent(ctx, l.r, n)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	it, err := decodeItem(loc, data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	l.items = append(l.items, it)
	return nil
}

// readContent assembles a file's bytes from its chunks.
func readContent(ctx context.Context, r *repo.Repository, n *snapshot.Node) ([]byte, error) {
	if n.Size > maxObjectBytes {
		return nil, fmt.Errorf("size %d is over the %d-byte limit for an object", n.Size, maxObjectBytes)
	}
	exts, err := snapshot.Extents(ctx, r, n)
	if err != nil {
		return nil, fmt.Errorf("read content list: %w", err)
	}
	data := make([]byte, n.Size)
	var chunk []byte
	for _, e := range exts {
		pos := e.Offset
		for _, id := range e.Chunks {
			if chunk, err = r.LoadBlob(ctx, core.DataBlob, id, chunk[:0]); err != nil {
				return nil, err
			}
			if pos < 0 || pos+int64(len(chunk)) > n.Size {
				return nil, fmt.Errorf("chunk %s at offset %d runs past the size %d", id.Short(), pos, n.Size)
			}
			pos += int64(copy(data[pos:], chunk))
		}
	}
	return data, nil
}

// decodeItem parses an object and checks it against where it was found.
func decodeItem(loc location, data []byte) (Item, error) {
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		return Item{}, fmt.Errorf("decode object: %w", err)
	}
	gv, err := schema.ParseGroupVersion(obj.GetAPIVersion())
	if err != nil {
		return Item{}, fmt.Errorf("decode object: %w", err)
	}
	gr := loc.gr
	if gr.Group == "" && gv.Group == CoreGroupDir {
		gr.Group = CoreGroupDir // a group really named "core"
	}
	switch {
	case gv.Group != gr.Group:
		return Item{}, fmt.Errorf("object has apiVersion %q, outside the group of its directory", obj.GetAPIVersion())
	case obj.GetName() != loc.name || obj.GetNamespace() != loc.namespace:
		return Item{}, fmt.Errorf("object is named %q in namespace %q, not what its path says", obj.GetName(), obj.GetNamespace())
	}
	return Item{GroupResource: gr, Version: gv.Version, Namespaced: loc.namespaced, Object: obj}, nil
}

func compareItems(a, b Item) int {
	if d := compareGR(a.GroupResource, b.GroupResource); d != 0 {
		return d
	}
	if d := strings.Compare(a.Object.GetNamespace(), b.Object.GetNamespace()); d != 0 {
		return d
	}
	return strings.Compare(a.Object.GetName(), b.Object.GetName())
}
