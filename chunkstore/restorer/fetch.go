package restorer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"slices"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// maxGap is the largest run of unneeded bytes a single ranged GET reads
// through rather than splitting into two requests: one extra request costs
// about as much as reading 1 MiB on typical object stores.
const maxGap = 1 << 20

// maxRange caps the bytes one ranged read fetches, so that each worker's
// read buffer stays at half a pack whatever the layout; 8 MiB is still far
// past the size where a request's fixed cost stops mattering.
const maxRange = 8 << 20

func (rs *restore) fetchAll(ctx context.Context) error {
	packIDs := make([]core.ID, 0, len(rs.packs))
	for id := range rs.packs {
		packIDs = append(packIDs, id)
	}
	g, ctx := errgroup.WithContext(ctx)
	queue := make(chan core.ID)
	for range rs.opts.Workers {
		g.Go(func() error {
			f := &fetcher{open: rs.r.NewOpenScratch()}
			for id := range queue {
				if err := rs.fetchPack(ctx, id, f); err != nil {
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

// fetcher is one fetch worker's reusable state: the buffer that ranged
// reads land in, the one blobs are opened into and OpenBlob's own. Reusing
// them keeps a restore's memory at a few pack ranges per worker and spares
// the kernel from handing out (and the runtime from zeroing) fresh pages for
// each read. Buffers only ever grow, to the largest blob or range seen.
type fetcher struct {
	open    *repo.OpenScratch
	packBuf []byte
	scratch []byte
}

// fetchPack reads the blobs needed from one pack in as few ranged reads as
// the gaps allow, and writes them out.
func (rs *restore) fetchPack(ctx context.Context, pack core.ID, f *fetcher) error {
	items := rs.packs[pack]
	slices.SortFunc(items, func(a, b *item) int { return int(a.loc.Offset) - int(b.loc.Offset) })
	for start := 0; start < len(items); {
		end := start + 1
		base := int64(items[start].loc.Offset)
		for end < len(items) && int64(items[end].loc.Offset)-rangeEnd(items[end-1]) <= maxGap &&
			rangeEnd(items[end])-base <= maxRange {
			end++
		}
		if err := rs.fetchRange(ctx, pack, items[start:end], f); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// fetchRange reads one range of a pack, mapped where the store can (see
// blob.ReadRange), and writes out the blobs in it. A range that cannot be
// read, or a blob in it that does not verify, is damage rather than the
// end of the restore: each blob concerned is tried again from every copy
// the index knows (fetchAlone).
func (rs *restore) fetchRange(ctx context.Context, pack core.ID, items []*item, f *fetcher) error {
	failed, err := rs.readRange(ctx, pack, items, f)
	if err != nil {
		return err
	}
	for _, it := range failed {
		if err := rs.fetchAlone(ctx, it.item, it.err); err != nil {
			return err
		}
	}
	return nil
}

// failedItem is a blob of a range that could not be read or verified.
type failedItem struct {
	item *item
	err  error
}

// readRange writes the blobs of one range and returns those that failed
// for damage. A mapped pack truncated under it faults; that is damage of
// every blob not written yet, not a crash.
func (rs *restore) readRange(ctx context.Context, pack core.ID, items []*item, f *fetcher) (failed []failedItem, err error) {
	base := int64(items[0].loc.Offset)
	data, release, err := blob.ReadRange(ctx, rs.r.Store(), repo.PackName(pack), base, rangeEnd(items[len(items)-1])-base, f.packBuf)
	if err != nil {
		if !isDamage(err) {
			return nil, fmt.Errorf("restore: read pack %s: %w", pack.Short(), err)
		}
		return allFailed(items, fmt.Errorf("read pack %s: %w", pack.Short(), err)), nil
	}
	if release == nil {
		if cap(data) > cap(f.packBuf) {
			f.packBuf = data[:0] // read, not mapped: the next range reuses it
		}
	} else {
		defer release()
	}
	done := 0
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			// SetPanicOnFault's panics carry the faulting address.
			if _, ok := r.(interface{ Addr() uintptr }); !ok {
				panic(r)
			}
			cause := fmt.Errorf("pack %s changed while it was read (%v): %w", pack.Short(), r, repo.ErrCorrupt)
			failed, err = append(failed, allFailed(items[done:], cause)...), nil
		}
	}()
	for _, it := range items {
		sealed := data[int64(it.loc.Offset)-base : rangeEnd(it)-base]
		plain, err := rs.r.OpenBlob(it.id, it.loc, sealed, f.scratch[:0], f.open)
		if err != nil {
			failed = append(failed, failedItem{it, err})
			done++
			continue
		}
		if cap(plain) > cap(f.scratch) {
			f.scratch = plain[:0]
		}
		if err := rs.write(it, plain); err != nil {
			return nil, err
		}
		done++
	}
	return failed, nil
}

func allFailed(items []*item, err error) []failedItem {
	out := make([]failedItem, len(items))
	for i, it := range items {
		out[i] = failedItem{it, err}
	}
	return out
}

// fetchAlone loads one blob that failed in its range from any copy the
// index knows, and writes it; if none is readable, the places it goes are
// recorded as damaged. first is why the planned copy failed.
func (rs *restore) fetchAlone(ctx context.Context, it *item, first error) error {
	if errors.Is(first, blob.ErrNotFound) {
		rs.r.MarkMissing(it.loc.Pack)
	}
	plain, err := rs.r.LoadBlob(ctx, core.DataBlob, it.id, nil)
	if err == nil {
		return rs.write(it, plain)
	}
	if !isDamage(err) {
		return fmt.Errorf("restore: %w", err)
	}
	if errors.Is(err, repo.ErrBlobMissing) {
		err = first // the planned copy was the only one: its failure says more
	}
	rs.damageItem(it, err)
	return nil
}

func rangeEnd(it *item) int64 { return int64(it.loc.Offset) + int64(it.loc.Length) }

// write puts one verified blob at every offset that uses it.
func (rs *restore) write(it *item, plain []byte) error {
	for _, t := range it.targets {
		if err := writeAt(t.file.path, plain, t.off, t.file.byWrite); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		rs.opts.Progress.BytesDone.Add(int64(len(plain)))
	}
	return nil
}

// writeAt writes data at off in the file at path, which exists unless
// create is set: then it is created (or truncated) first. See createSized
// for why it uses a raw descriptor.
func writeAt(path string, data []byte, off int64, create bool) error {
	flags := unix.O_WRONLY | unix.O_CLOEXEC
	if create {
		flags |= unix.O_CREAT | unix.O_TRUNC
	}
	fd, err := unix.Open(path, flags, 0o600)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	for len(data) > 0 && err == nil {
		var n int
		n, err = unix.Pwrite(fd, data, off)
		if err == unix.EINTR {
			err = nil
			continue
		}
		if err != nil {
			break // n is -1: nothing was written
		}
		data, off = data[n:], off+int64(n)
		if err == nil && n == 0 {
			err = io.ErrShortWrite
		}
	}
	if err != nil {
		unix.Close(fd)
		perr := &fs.PathError{Op: fmt.Sprintf("write at %d", off), Path: path, Err: err}
		if errors.Is(err, unix.ENOSPC) {
			return fmt.Errorf("%w; free space on the target", perr)
		}
		return perr
	}
	if err := unix.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: path, Err: err}
	}
	return nil
}
