package scale

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zeebo/blake3"

	"github.com/cairnbackup/cairn/chunkstore/blob/fs"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/pack"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// The synthetic layout. 256 blobs of 64 KiB make a 16 MiB pack, the
// writers' target, with a tenth of the packs 1 MiB chunks would need:
// the index entries, which are what is measured, are the same.
const (
	ChunkSize     = 64 << 10
	sealedChunk   = ChunkSize + crypto.Overhead
	BlobsPerPack  = 256
	packsPerIndex = 64    // as writers flush their index
	fileChunks    = 65536 // chunks per synthetic file: 4 content lists
	extentChunks  = snapshot.MaxExtentChunks
)

// GenConfig describes the repository to generate.
type GenConfig struct {
	Dir       string // a new local directory
	Entries   int64  // data-chunk index entries, a multiple of BlobsPerPack
	Snapshots int    // disjoint shares; one more snapshot references all
	Password  []byte
}

// GenResult says what was written.
type GenResult struct {
	Entries, Packs, IndexFiles int64
	Seconds                    float64
}

// ChunkID is the ID of synthetic chunk i: reproducible, so the lookup
// measurement can ask for present IDs without reading the index.
func ChunkID(i int64) core.ID {
	var b [16]byte
	copy(b[:8], "cairnscl")
	binary.LittleEndian.PutUint64(b[8:], uint64(i))
	return core.ID(blake3.Sum256(b[:]))
}

// Generate writes the repository.
func Generate(ctx context.Context, cfg GenConfig) (*GenResult, error) {
	if cfg.Entries <= 0 || cfg.Snapshots < 1 {
		return nil, fmt.Errorf("generate: entries and snapshots must be at least 1")
	}
	start := time.Now()
	store, err := fs.Open(cfg.Dir, fs.Options{Create: true})
	if err != nil {
		return nil, err
	}
	r, err := repo.Init(ctx, store, cfg.Password, repo.Options{KDF: crypto.FastKDFForTests, Host: "scale", User: "scale"})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	res := &GenResult{Entries: cfg.Entries}
	if err := writePacks(ctx, r, cfg, res); err != nil {
		return nil, err
	}
	if err := writeSnapshots(ctx, r, cfg); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// writePacks writes the sparse packs and their index files.
func writePacks(ctx context.Context, r *repo.Repository, cfg GenConfig, res *GenResult) error {
	buf := make([]byte, 0, BlobsPerPack*sealedChunk+pack.MaxHeaderSize)
	var f index.File
	for first := int64(0); first < cfg.Entries; first += BlobsPerPack {
		w := pack.NewWriter(buf)
		last := min(first+BlobsPerPack, cfg.Entries)
		for i := first; i < last; i++ {
			w.Reserve(core.DataBlob, ChunkID(i), sealedChunk, ChunkSize)
		}
		fin := w.Finish(r.Key())
		if err := writeSparse(filepath.Join(cfg.Dir, repo.PackName(fin.ID)), fin.Data, int(last-first)*sealedChunk); err != nil {
			return err
		}
		f.Packs = append(f.Packs, index.PackEntry{ID: fin.ID, Blobs: fin.Blobs})
		res.Packs++
		if len(f.Packs) == packsPerIndex {
			if err := saveIndex(ctx, r, &f, res); err != nil {
				return err
			}
		}
	}
	if len(f.Packs) > 0 {
		return saveIndex(ctx, r, &f, res)
	}
	return nil
}

func saveIndex(ctx context.Context, r *repo.Repository, f *index.File, res *GenResult) error {
	if _, err := r.SaveIndexFile(ctx, f); err != nil {
		return err
	}
	res.IndexFiles++
	*f = index.File{}
	return nil
}

// writeSparse writes data's tail from hole on, leaving the blobs a hole.
func writeSparse(path string, data []byte, hole int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := fh.Truncate(int64(len(data))); err != nil {
		fh.Close()
		return err
	}
	if _, err := fh.WriteAt(data[hole:], int64(hole)); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// writeSnapshots writes one snapshot per share of the chunks and one of
// all of them. Files and their content lists are shared between them.
func writeSnapshots(ctx context.Context, r *repo.Repository, cfg GenConfig) error {
	saver, err := r.NewSaver(ctx, repo.SaverOptions{})
	if err != nil {
		return err
	}
	hash := r.NewHasher().Sum
	// Shares start on pack boundaries, so forgetting whole shares leaves
	// no pack partly referenced: repacking would read the missing data.
	share := cfg.Entries / int64(cfg.Snapshots) / BlobsPerPack * BlobsPerPack
	var all []*snapshot.Node
	var snaps []*snapshot.Snapshot
	for g := 0; g < cfg.Snapshots; g++ {
		n := share
		if g == cfg.Snapshots-1 {
			n = cfg.Entries - int64(g)*share // the last share takes the rest
		}
		files, err := shareFiles(saver, hash, g, int64(g)*share, n)
		if err != nil {
			saver.Close(ctx)
			return err
		}
		all = append(all, files...)
		s, err := snapshotOf(saver, hash, files, fmt.Sprintf("scale=share-%02d", g))
		if err != nil {
			saver.Close(ctx)
			return err
		}
		snaps = append(snaps, s)
	}
	s, err := snapshotOf(saver, hash, all, "scale=all")
	if err != nil {
		saver.Close(ctx)
		return err
	}
	snaps = append(snaps, s)
	if err := saver.Flush(ctx); err != nil { // the trees' packs and index file
		saver.Close(ctx)
		return err
	}
	if err := saver.Close(ctx); err != nil {
		return err
	}
	for _, s := range snaps {
		if _, err := r.SaveJSON(ctx, repo.KindSnapshot, s); err != nil {
			return err
		}
	}
	return nil
}

// shareFiles makes the file nodes of chunks [first, first+n).
func shareFiles(saver *repo.Saver, hash snapshot.HashFunc, g int, first, n int64) ([]*snapshot.Node, error) {
	var files []*snapshot.Node
	for f := int64(0); f*fileChunks < n; f++ {
		lo := first + f*fileChunks
		hi := min(lo+fileChunks, first+n)
		var exts []snapshot.Extent
		for e := lo; e < hi; e += extentChunks {
			ext := snapshot.Extent{Offset: (e - lo) * ChunkSize}
			for i := e; i < min(e+extentChunks, hi); i++ {
				ext.Chunks = append(ext.Chunks, ChunkID(i))
			}
			exts = append(exts, ext)
		}
		node := &snapshot.Node{Name: fmt.Sprintf("s%02d-f%06d", g, f), Type: snapshot.TypeFile, Mode: 0o644,
			Size: (hi - lo) * ChunkSize, MtimeNs: 1}
		if err := snapshot.SetContent(saver, hash, node, exts); err != nil {
			return nil, err
		}
		files = append(files, node)
	}
	return files, nil
}

// snapshotOf stores a directory "data" holding files and returns a
// snapshot of it.
func snapshotOf(saver *repo.Saver, hash snapshot.HashFunc, files []*snapshot.Node, tag string) (*snapshot.Snapshot, error) {
	parts, err := snapshot.SaveTree(saver, hash, files)
	if err != nil {
		return nil, err
	}
	dir := &snapshot.Node{Name: "data", Type: snapshot.TypeDir, Mode: 0o755, MtimeNs: 1, Subtree: parts}
	root, err := snapshot.SaveTree(saver, hash, []*snapshot.Node{dir})
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	return &snapshot.Snapshot{Version: snapshot.Version, Kind: snapshot.KindFiles, Time: now, EndTime: now,
		Hostname: "scale", Paths: []string{"/data"}, Tags: []string{tag}, Tree: root, Program: "cairn-scale"}, nil
}
