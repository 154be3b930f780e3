package restorer

import (
	"context"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// maxGap is the largest run of unneeded bytes a single ranged GET reads
// through rather than splitting into two requests: one extra request costs
// about as much as reading 1 MiB on typical object stores.
const maxGap = 1 << 20

func (rs *restore) fetchAll(ctx context.Context) error {
	packIDs := make([]core.ID, 0, len(rs.packs))
	for id := range rs.packs {
		packIDs = append(packIDs, id)
	}
	g, ctx := errgroup.WithContext(ctx)
	queue := make(chan core.ID)
	for range rs.opts.Workers {
		g.Go(func() error {
			h := rs.r.NewHasher()
			var scratch []byte
			for id := range queue {
				var err error
				if scratch, err = rs.fetchPack(ctx, id, h, scratch); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(queue)
		for _, id := range packIDs {
			select {
			case queue <- id:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		return nil
	})
	return g.Wait()
}

// fetchPack reads the blobs needed from one pack in as few ranged GETs as
// the gaps allow, and writes them out.
func (rs *restore) fetchPack(ctx context.Context, pack core.ID, h *chunker.Hasher, scratch []byte) ([]byte, error) {
	items := rs.packs[pack]
	slices.SortFunc(items, func(a, b *item) int { return int(a.loc.Offset) - int(b.loc.Offset) })
	for start := 0; start < len(items); {
		end := start + 1
		for end < len(items) && int64(items[end].loc.Offset)-rangeEnd(items[end-1]) <= maxGap {
			end++
		}
		base := int64(items[start].loc.Offset)
		data, err := rs.r.Store().Get(ctx, repo.PackName(pack), base, rangeEnd(items[end-1])-base)
		if err != nil {
			return scratch, fmt.Errorf("restore: read pack %s: %w", pack.Short(), err)
		}
		for _, it := range items[start:end] {
			sealed := data[int64(it.loc.Offset)-base : rangeEnd(it)-base]
			plain, err := rs.r.OpenBlob(it.id, it.loc, sealed, scratch[:0], h)
			if err != nil {
				return scratch, fmt.Errorf("restore: %w", err)
			}
			scratch = plain
			if err := rs.write(it, plain); err != nil {
				return scratch, err
			}
		}
		start = end
	}
	return scratch, nil
}

func rangeEnd(it *item) int64 { return int64(it.loc.Offset) + int64(it.loc.Length) }

// write puts one verified blob at every offset that uses it.
func (rs *restore) write(it *item, plain []byte) error {
	for _, t := range it.targets {
		f, err := os.OpenFile(t.file.path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("restore: open %s: %w", t.file.path, err)
		}
		_, werr := f.WriteAt(plain, t.off)
		cerr := f.Close()
		if werr != nil {
			return fmt.Errorf("restore: write %s at %d: %w", t.file.path, t.off, werr)
		}
		if cerr != nil {
			return fmt.Errorf("restore: close %s: %w", t.file.path, cerr)
		}
		rs.opts.Progress.BytesDone.Add(int64(len(plain)))
	}
	return nil
}
