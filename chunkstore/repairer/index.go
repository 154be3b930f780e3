package repairer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/pack"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// rebuilt is the index as the packs say it is.
type rebuilt struct {
	packs []index.PackEntry
	// old is the index before the repair, kept for the lengths and packs
	// of blobs that are gone (LookupAny), and oldFiles its files, which the
	// new index supersedes.
	old      *index.Index
	oldFiles []core.ID
	missing  map[core.ID]bool
	corrupt  map[core.ID]core.ID // blob → the pack it failed in
}

// isDamage tells lost or corrupt repository data from a store that failed
// to deliver, which stops the repair instead.
func isDamage(err error) bool {
	return errors.Is(err, core.ErrCorrupt) || errors.Is(err, repo.ErrBlobMissing) ||
		errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrRange)
}

// rebuildIndex reads every pack and builds the index from what they hold,
// then makes it the repository's index for the rest of the repair.
func (rp *repairer) rebuildIndex(ctx context.Context) error {
	oldFiles, err := rp.r.ListFiles(ctx, repo.KindIndex)
	if err != nil {
		return err
	}
	if err := rp.r.LoadIndex(ctx); err != nil {
		return err
	}
	for id := range rp.r.DamagedIndexFiles() {
		rp.rep.IndexFilesDamaged = append(rp.rep.IndexFilesDamaged, id)
	}
	rp.built = &rebuilt{old: rp.r.Index(), oldFiles: oldFiles, missing: map[core.ID]bool{}, corrupt: map[core.ID]core.ID{}}
	packs, err := rp.r.ListPacks(ctx)
	if err != nil {
		return err
	}
	rp.rep.Packs = len(packs)
	oldPacks := rp.built.old.PackBlobs()
	if err := rp.readPacks(ctx, packs, oldPacks); err != nil {
		return err
	}
	stored := map[core.ID]bool{}
	for _, p := range packs {
		stored[p.ID] = true
	}
	for p := range oldPacks {
		if !stored[p] {
			rp.built.missing[p] = true
			rp.rep.PacksMissing = append(rp.rep.PacksMissing, p)
		}
	}
	slices.SortFunc(rp.rep.PacksMissing, compareIDs)
	ix := index.New()
	for _, e := range rp.built.packs {
		if err := ix.AddPack(e.ID, e.Blobs); err != nil {
			return wrap("index pack "+e.ID.Short(), err)
		}
	}
	rp.rep.IndexFilesReplaced = len(oldFiles)
	rp.r.SetIndex(ix)
	return nil
}

// readPacks reads the pack headers (or whole packs with ReadData) several
// at a time.
func (rp *repairer) readPacks(ctx context.Context, packs []repo.PackInfo, oldPacks map[core.ID][]index.Blob) error {
	var mu sync.Mutex
	var total, done atomic.Int64
	for _, p := range packs {
		total.Add(p.Size)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(rp.opts.Workers)
	for _, p := range packs {
		g.Go(func() error {
			blobs, issues, err := rp.readPack(gctx, p, oldPacks[p.ID])
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if blobs != nil {
				rp.built.packs = append(rp.built.packs, index.PackEntry{ID: p.ID, Blobs: blobs})
			}
			for _, b := range issues.corrupt {
				rp.built.corrupt[b.Blob] = b.Pack
				rp.rep.BlobsCorrupt = append(rp.rep.BlobsCorrupt, b)
			}
			if issues.unreadable != "" {
				rp.rep.PacksUnreadable = append(rp.rep.PacksUnreadable, PackIssue{Pack: p.ID, Why: issues.unreadable})
			}
			if rp.opts.Progress != nil && rp.opts.ReadData {
				rp.opts.Progress(done.Add(p.Size), total.Load())
			}
			return nil
		})
	}
	return g.Wait()
}

type packIssues struct {
	unreadable string
	corrupt    []BlobIssue
}

// readPack returns the blobs of one pack that the new index keeps. A
// damaged header falls back on what the old index said of the pack.
func (rp *repairer) readPack(ctx context.Context, p repo.PackInfo, old []index.Blob) ([]index.Blob, packIssues, error) {
	var iss packIssues
	if rp.opts.ReadData {
		return rp.verifyPack(ctx, p, old)
	}
	blobs, err := rp.r.ReadPackHeader(ctx, p.ID, p.Size)
	if err != nil && !isDamage(err) {
		return nil, iss, wrap("read pack "+p.ID.Short(), err)
	}
	if err != nil {
		if len(old) == 0 {
			iss.unreadable = fmt.Sprintf("%v; no index file lists it, so its blobs cannot be found", err)
			return nil, iss, nil
		}
		return old, iss, nil
	}
	return blobs, iss, nil
}

// verifyPack reads a pack whole and keeps the blobs that verify.
func (rp *repairer) verifyPack(ctx context.Context, p repo.PackInfo, old []index.Blob) ([]index.Blob, packIssues, error) {
	var iss packIssues
	data, err := rp.r.Store().Get(ctx, repo.PackName(p.ID), 0, -1)
	if err != nil && !isDamage(err) {
		return nil, iss, wrap("read pack "+p.ID.Short(), err)
	}
	if err != nil {
		iss.unreadable = err.Error()
		return nil, iss, nil
	}
	blobs, err := pack.ParseHeader(rp.r.Key(), data, int64(len(data)))
	if err != nil {
		if len(old) == 0 {
			iss.unreadable = fmt.Sprintf("%v; no index file lists it, so its blobs cannot be found", err)
			return nil, iss, nil
		}
		blobs = old
	}
	o := rp.r.NewOpenScratch()
	var keep []index.Blob
	var buf []byte
	for _, b := range blobs {
		loc := index.Location{Pack: p.ID, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}
		if int64(b.Offset)+int64(b.Length) > int64(len(data)) {
			iss.corrupt = append(iss.corrupt, BlobIssue{Blob: b.ID, Pack: p.ID, Why: "the pack ends before it"})
			continue
		}
		out, err := rp.r.OpenBlob(b.ID, loc, data[b.Offset:b.Offset+b.Length], buf[:0], o)
		if err != nil {
			iss.corrupt = append(iss.corrupt, BlobIssue{Blob: b.ID, Pack: p.ID, Why: err.Error()})
			continue
		}
		buf = out[:0]
		keep = append(keep, b)
	}
	if len(keep) == 0 {
		return nil, iss, nil
	}
	return keep, iss, nil
}

func compareIDs(a, b core.ID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

// why says what became of a blob the new index does not have.
func (b *rebuilt) why(id core.ID) string {
	if p, ok := b.corrupt[id]; ok {
		return fmt.Sprintf("it is corrupt in pack %s", p.Short())
	}
	if loc, ok := b.old.LookupAny(id); ok && b.missing[loc.Pack] {
		return fmt.Sprintf("pack %s, which held it, is missing from the store", loc.Pack.Short())
	}
	return "no pack in the store holds it"
}

// writeIndex stores the new index: files for every pack, the last one
// superseding every index file there was, which are then deleted. A crash
// before the last write leaves duplicates, never a gap.
func (rp *repairer) writeIndex(ctx context.Context) error {
	const perFile = 16384 // as prune: no index file past a few tens of MiB
	packs := rp.built.packs
	for {
		n := min(len(packs), perFile)
		f := index.File{Packs: packs[:n]}
		if n == len(packs) {
			f.Supersedes = rp.built.oldFiles
		}
		if _, err := rp.r.SaveIndexFile(ctx, &f); err != nil {
			return wrap("write index", err)
		}
		rp.rep.IndexFilesWritten++
		packs = packs[n:]
		if len(packs) == 0 {
			break
		}
	}
	for _, id := range rp.built.oldFiles {
		if err := rp.r.DeleteFile(ctx, repo.KindIndex, id); err != nil {
			return wrap("remove replaced index file", err)
		}
	}
	return nil
}
