package scale

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob/fs"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// OpenConfig says how a step opens the generated repository.
type OpenConfig struct {
	Dir       string
	Cache     string
	MaxMemory int64
	Password  []byte
}

func (c OpenConfig) open(ctx context.Context) (*repo.Repository, error) {
	store, err := fs.Open(c.Dir, fs.Options{})
	if err != nil {
		return nil, err
	}
	r, err := repo.Open(ctx, store, c.Password, repo.Options{IndexCache: c.Cache, MaxMemory: c.MaxMemory})
	if err != nil {
		store.Close()
		return nil, err
	}
	return r, nil
}

// LookupResult is what Lookup measured.
type LookupResult struct {
	LoadSeconds      float64 `json:"load_seconds"`
	AbsentNsPerOp    float64 `json:"absent_ns_per_op"`
	AbsentFiltered   float64 `json:"absent_share_rejected_by_filter"`
	PresentNsPerOp   float64 `json:"present_ns_per_op"`
	PresentFound     float64 `json:"present_share_found"`
	Lookups          int     `json:"lookups_each"`
	MemoryEntries    int     `json:"entries_in_memory"`
	SegmentEntries   int64   `json:"entries_in_segment"`
	ProbablyAbsentOK bool    `json:"absent_all_not_found"`
}

// Lookup loads the index through the cache (building it if needed) and
// times lookups of n absent and n present IDs, of entries chunks.
func Lookup(ctx context.Context, oc OpenConfig, entries int64, n int) (*LookupResult, error) {
	r, err := oc.open(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	t0 := time.Now()
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	res := &LookupResult{LoadSeconds: time.Since(t0).Seconds(), Lookups: n, ProbablyAbsentOK: true}
	ix := r.Index()
	res.MemoryEntries = ix.MemoryEntries()
	seg := ix.Base()
	if seg == nil {
		return nil, fmt.Errorf("lookup: the index is not on disk; give a cache directory")
	}
	res.SegmentEntries = seg.Info().Entries
	rng := rand.New(rand.NewPCG(1, 2))
	absent := make([]core.ID, n)
	for i := range absent {
		for j := 0; j < core.IDSize; j += 8 {
			v := rng.Uint64()
			for k := range 8 {
				absent[i][j+k] = byte(v >> (8 * k))
			}
		}
	}
	rejected := 0
	t0 = time.Now()
	for i := range absent {
		if ix.Has(absent[i]) {
			res.ProbablyAbsentOK = false
		}
	}
	res.AbsentNsPerOp = float64(time.Since(t0).Nanoseconds()) / float64(n)
	for i := range absent {
		if !seg.MayHave(&absent[i]) {
			rejected++
		}
	}
	res.AbsentFiltered = float64(rejected) / float64(n)
	present := make([]core.ID, n)
	for i := range present {
		present[i] = ChunkID(rng.Int64N(entries))
	}
	found := 0
	t0 = time.Now()
	for _, id := range present {
		if _, ok := ix.Lookup(id); ok {
			found++
		}
	}
	res.PresentNsPerOp = float64(time.Since(t0).Nanoseconds()) / float64(n)
	res.PresentFound = float64(found) / float64(n)
	return res, ix.WalkErr()
}

// PlanResult is what Plan measured.
type PlanResult struct {
	Seconds      float64 `json:"seconds"`
	Batches      int     `json:"batches"`
	PlannedBlobs int64   `json:"planned_blobs"`
	PlannedPacks int64   `json:"planned_packs"`
	Files        int64   `json:"files"`
}

// Plan plans the restore of the snapshot tagged tag into target, fetching
// nothing.
func Plan(ctx context.Context, oc OpenConfig, tag, target string) (*PlanResult, error) {
	r, err := oc.open(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	t0 := time.Now()
	snap, err := tagged(ctx, r, tag)
	if err != nil {
		return nil, err
	}
	out, err := restorer.Restore(ctx, r, snap.Snapshot, restorer.Options{Target: target, PlanOnly: true})
	if err != nil {
		return nil, err
	}
	return &PlanResult{Seconds: time.Since(t0).Seconds(), Batches: out.PlanBatches, PlannedBlobs: out.PlannedBlobs,
		PlannedPacks: out.PlannedPacks, Files: out.Files}, nil
}

func tagged(ctx context.Context, r *repo.Repository, tag string) (snapshot.Stored, error) {
	all, err := snapshot.List(ctx, r)
	if err != nil {
		return snapshot.Stored{}, err
	}
	for _, s := range all.Snapshots {
		if slices.Contains(s.Tags, tag) {
			return s, nil
		}
	}
	return snapshot.Stored{}, fmt.Errorf("no snapshot tagged %s", tag)
}

// ForgetHalf returns the IDs to forget: the snapshot of everything and the
// first half of the shares, so that half the packs become unreferenced.
func ForgetHalf(ctx context.Context, oc OpenConfig, shares int) ([]string, error) {
	oc.Cache = "" // listing snapshots needs no index
	r, err := oc.open(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	all, err := snapshot.List(ctx, r)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range all.Snapshots {
		for _, t := range s.Tags {
			var g int
			_, err := fmt.Sscanf(t, "scale=share-%d", &g)
			if t == "scale=all" || (err == nil && g < shares/2) {
				out = append(out, s.ID.String())
			}
		}
	}
	return out, nil
}
