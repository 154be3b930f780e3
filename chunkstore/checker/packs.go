package checker

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// checkPacksStreamed joins the store's packs, sorted on disk, with the
// index's packs in ID order, so neither is held in memory: only the packs
// whose headers are being read are.
func (c *checker) checkPacksStreamed(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Workers)
	err := c.r.JoinPacks(gctx, c.r.Index(), func(id core.ID, stored *repo.PackInfo, blobs []index.Blob) error {
		switch {
		case stored != nil:
			c.rep.Packs++
			if blobs == nil {
				c.rep.note("pack %s is not indexed (left by an interrupted backup); the next backup adopts it and prune removes it if unused", id.Short())
				return nil
			}
			size, want := stored.Size, slices.Clone(blobs)
			g.Go(func() error { c.checkHeader(gctx, id, size, want); return nil })
		default:
			c.missingPack(id, blobs)
		}
		return nil
	})
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("check packs: %w", err)
	}
	return nil
}

// missingPack reports an indexed pack the store lacks.
func (c *checker) missingPack(id core.ID, blobs []index.Blob) {
	c.rep.problem(repo.PackName(id), "pack is listed in the index but missing from the store; its %d blobs are lost unless stored elsewhere "+
		"(the snapshots and files affected are listed below)", len(blobs))
	for _, b := range blobs {
		c.badCopy(b.ID, id, fmt.Sprintf("pack %s, which holds it, is missing from the store", id.Short()))
	}
}
