package checker

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/core"
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
	data, err := c.r.Store().Get(ctx, name, 0, -1)
	if err != nil {
		c.rep.problem(name, "read: %v", err)
		return nil
	}
	if got, err := c.r.PackID(data); err != nil || got != id {
		c.rep.problem(name, "content does not match its name: the pack is corrupt")
	}
	blobs, err := pack.ParseHeader(c.r.Key(), data, int64(len(data)))
	if err != nil {
		c.rep.problem(name, "%v", err)
		return nil
	}
	o := c.r.NewOpenScratch()
	var buf []byte
	for _, b := range blobs {
		loc := repoLocation(id, b)
		sealed := data[b.Offset : b.Offset+b.Length]
		out, err := c.r.OpenBlob(b.ID, loc, sealed, buf[:0], o)
		if err != nil {
			c.rep.problem(name, "%s blob %s: %v", b.Type, b.ID.Short(), err)
			continue
		}
		if cap(out) > cap(buf) {
			buf = out[:0]
		}
	}
	return nil
}
