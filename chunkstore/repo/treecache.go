package repo

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
)

// Tree blobs are small (a directory's listing) and read one at a time by
// walks that visit thousands of directories: an incremental backup reading
// its parent's trees, a restore, ls. Reading each with its own ranged GET
// costs a round trip per directory on an object store, so whole tree packs
// are read once and kept here, the most recently used first, up to
// treeCacheBytes. Tree packs are usually far smaller than data packs: a
// directory's listing compresses to a few hundred bytes per entry.
const treeCacheBytes = 64 << 20

// maxCachedPack is the largest pack the cache keeps.
const maxCachedPack = treeCacheBytes / 2

type treeCache struct {
	mu      sync.Mutex
	packs   map[core.ID]*list.Element // of *cachedPack
	order   list.List                 // front: most recently used
	bytes   int
	loading singleflight.Group
}

type cachedPack struct {
	id   core.ID
	data []byte
}

func newTreeCache() *treeCache {
	return &treeCache{packs: map[core.ID]*list.Element{}}
}

// get returns the whole pack, reading it with load if it is not cached.
// Concurrent callers for one pack share a single read.
func (c *treeCache) get(id core.ID, load func() ([]byte, error)) ([]byte, error) {
	if data, ok := c.lookup(id); ok {
		return data, nil
	}
	v, err, _ := c.loading.Do(string(id[:]), func() (any, error) {
		if data, ok := c.lookup(id); ok {
			return data, nil
		}
		data, err := load()
		if err != nil {
			return nil, err
		}
		c.add(id, data)
		return data, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

func (c *treeCache) lookup(id core.ID) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.packs[id]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cachedPack).data, true
}

func (c *treeCache) add(id core.ID, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.packs[id]; ok || len(data) > maxCachedPack {
		return
	}
	c.packs[id] = c.order.PushFront(&cachedPack{id: id, data: data})
	c.bytes += len(data)
	for c.bytes > treeCacheBytes {
		old := c.order.Back()
		p := old.Value.(*cachedPack)
		c.order.Remove(old)
		delete(c.packs, p.id)
		c.bytes -= len(p.data)
	}
}

// loadTreeBlob reads a tree blob through the cache, or returns ok false when
// the repository's packs are too large to read whole for it.
func (r *Repository) loadTreeBlob(ctx context.Context, id core.ID, loc index.Location, dst []byte) (out []byte, ok bool, err error) {
	// Packs reach the target size plus one blob and the header (version 1
	// writers filled past the target); larger targets are read blob by blob.
	if r.cfg.PackSize+chunker.MaxSize+packHeaderRoom > maxCachedPack {
		return nil, false, nil
	}
	data, err := r.trees.get(loc.Pack, func() ([]byte, error) {
		return r.store.Get(ctx, PackName(loc.Pack), 0, -1)
	})
	if errors.Is(err, blob.ErrNotFound) {
		r.MarkMissing(loc.Pack)
	}
	if err != nil {
		return nil, true, err
	}
	end := int64(loc.Offset) + int64(loc.Length)
	if end > int64(len(data)) {
		return nil, true, fmt.Errorf("%w: pack %s is %d bytes, the index places a blob up to %d", ErrCorrupt, loc.Pack.Short(), len(data), end)
	}
	out, err = r.OpenBlob(id, loc, data[loc.Offset:end], dst, nil)
	return out, true, err
}
