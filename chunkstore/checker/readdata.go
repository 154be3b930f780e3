package checker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/pack"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// readData reads every stored pack whole and verifies every byte.
func (c *checker) readData(ctx context.Context) error {
	var total, done atomic.Int64
	for _, p := range c.stored {
		total.Add(p.Size)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Workers)
	for id, info := range c.stored {
		g.Go(func() error {
			if err := c.readPack(gctx, id, info.Size); err != nil {
				return err
			}
			d := done.Add(info.Size)
			if c.opts.Progress != nil {
				c.opts.Progress(d, total.Load())
			}
			return nil
		})
	}
	err := g.Wait()
	c.rep.BytesRead = done.Load()
	return err
}

func (c *checker) readPack(ctx context.Context, id core.ID, size int64) error {
	name := repo.PackName(id)
	indexed := c.indexed[id]
	data, err := c.r.Store().Get(ctx, name, 0, -1)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("check: read %s: %w", name, err)
	}
	if err != nil {
		c.rep.problem(name, "read: %v", err)
		c.allBad(id, indexed, fmt.Sprintf("pack %s could not be read", id.Short()))
		return nil
	}
	if got, err := c.r.PackID(data); err != nil || got != id {
		c.rep.problem(name, "content does not match its name: the pack is corrupt")
	}
	// The header names the blobs; if it is damaged, the index still says
	// where the indexed ones are, and those are verified instead.
	blobs, err := pack.ParseHeader(c.r.Key(), data, int64(len(data)))
	if err != nil {
		c.rep.problem(name, "%v; its indexed blobs are verified from the index instead", err)
		blobs = indexed
	}
	o := c.r.NewOpenScratch()
	var buf []byte
	for _, b := range blobs {
		if int64(b.Offset)+int64(b.Length) > int64(len(data)) {
			c.rep.problem(name, "%s blob %s lies past the pack's end", b.Type, b.ID.Short())
			c.badCopy(b.ID, id, fmt.Sprintf("pack %s is truncated", id.Short()))
			continue
		}
		sealed := data[b.Offset : b.Offset+b.Length]
		out, err := c.r.OpenBlob(b.ID, repoLocation(id, b), sealed, buf[:0], o)
		if err != nil && len(indexed) > 0 && !listed(indexed, b.ID) {
			// An indexed pack whose index entries leave this blob out: a
			// repair dropped it as corrupt, and nothing can need it.
			c.rep.note("%s holds %s blob %s, corrupt and not indexed (a repair dropped it); prune frees it once the pack is repacked", name, b.Type, b.ID.Short())
			continue
		}
		if err != nil {
			c.rep.problem(name, "%s blob %s: %v", b.Type, b.ID.Short(), err)
			c.badCopy(b.ID, id, fmt.Sprintf("it is corrupt in pack %s", id.Short()))
			continue
		}
		if cap(out) > cap(buf) {
			buf = out[:0]
		}
	}
	return nil
}

// allBad records every indexed blob of a pack as bad there.
func (c *checker) allBad(pack core.ID, blobs []index.Blob, why string) {
	for _, b := range blobs {
		c.badCopy(b.ID, pack, why)
	}
}

func listed(blobs []index.Blob, id core.ID) bool {
	for _, b := range blobs {
		if b.ID == id {
			return true
		}
	}
	return false
}
