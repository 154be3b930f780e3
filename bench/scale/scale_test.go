package scale

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/checker"
)

// A small generated repository checks clean, every chunk is indexed, and
// planning the snapshot of all chunks plans each of them.
func TestGeneratedRepositoryChecksClean(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "repo")
	const entries = 4*BlobsPerPack + 7
	g, err := Generate(ctx, GenConfig{Dir: dir, Entries: entries, Snapshots: 2, Password: Password})
	if err != nil {
		t.Fatal(err)
	}
	if g.Packs != entries/BlobsPerPack+1 || g.IndexFiles != 1 {
		t.Fatalf("generated %d packs in %d index files", g.Packs, g.IndexFiles)
	}
	oc := OpenConfig{Dir: dir, Cache: t.TempDir(), MaxMemory: 64 << 20, Password: Password}
	r, err := oc.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := checker.Check(ctx, r, checker.Options{})
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v %v", err, rep.Problems)
	}
	r.Close()
	l, err := Lookup(ctx, oc, entries, 1000)
	if err != nil || l.PresentFound != 1 || !l.ProbablyAbsentOK {
		t.Fatalf("lookup: %+v, %v", l, err)
	}
	p, err := Plan(ctx, oc, "scale=all", t.TempDir())
	if err != nil || p.PlannedBlobs != entries {
		t.Fatalf("plan: %+v, %v", p, err)
	}
	ids, err := ForgetHalf(ctx, oc, 2)
	if err != nil || len(ids) != 2 {
		t.Fatalf("forget half: %v, %v", ids, err)
	}
}
