package archiver_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
)

// A plan bounded to almost nothing is cut into a batch per chunk, large
// and small files alike, and the restore is still exact.
func TestRestoreInPlanBatches(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	testtree.Build(t, src, testtree.Spec{Seed: 5, SmallFiles: 20, LargeSize: 12 << 20, Sparse: true})
	r := repotest.Init(t, repotest.FS(t, t.TempDir()))
	res := backup(t, r, []string{src}, archiver.Options{})
	dst := t.TempDir()
	out, err := restorer.Restore(context.Background(), r, res.Snapshot, restorer.Options{Target: dst, PlanMemory: 1, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Warnings) > 0 || len(out.Damaged) > 0 {
		t.Fatalf("warnings %v, damage %v", out.Warnings, out.Damaged)
	}
	if out.PlanBatches < 20 {
		t.Fatalf("the plan was cut into %d batches, want one per chunk", out.PlanBatches)
	}
	testtree.Compare(t, src, filepath.Join(dst, "src"))
}
