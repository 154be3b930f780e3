package archiver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/fault"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/blob/retry"
	"github.com/cairnbackup/cairn/chunkstore/checker"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/internal/testtree"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/restorer"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

func sourceTree(t *testing.T, seed uint64) string {
	src := filepath.Join(t.TempDir(), "src")
	testtree.Build(t, src, testtree.Spec{Seed: seed, SmallFiles: 30, LargeSize: 24 << 20})
	return src
}

func TestTransientErrorsAreRetried(t *testing.T) {
	src := sourceTree(t, 11)
	f := fault.Wrap(mem.New())
	store := retry.Wrap(f, retry.Policy{Sleep: noSleep})
	r := repotest.Init(t, store)
	f.Add(fault.Rule{Op: fault.OpPut, Prefix: "data/", Times: 3})
	f.Add(fault.Rule{Op: fault.OpPut, Prefix: "index/", Times: 1, After: true})
	f.Add(fault.Rule{Op: fault.OpGet, Times: 2, Err: blob.ErrTransient})
	res := backup(t, r, []string{src}, archiver.Options{})
	dst := t.TempDir()
	restore(t, r, res.Snapshot, restorer.Options{Target: dst})
	testtree.Compare(t, src, filepath.Join(dst, "src"))
	mustCheck(t, r, true)
}

func TestPersistentErrorLeavesRepositoryConsistent(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"timeouts", blob.ErrTransient, "attempt"},
		{"disk full", blob.ErrNoSpace, "no space"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := sourceTree(t, 12)
			f := fault.Wrap(mem.New())
			r := repotest.Init(t, retry.Wrap(f, retry.Policy{Sleep: noSleep}))
			f.Add(fault.Rule{Op: fault.OpPut, Prefix: "data/", Err: tc.err})
			_, err := archiver.Backup(context.Background(), r, []string{src}, archiver.Options{})
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.want) {
				t.Fatalf("backup error = %v, want one mentioning %q", err, tc.want)
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("backup error %v does not wrap %v", err, tc.err)
			}
			f.Clear()
			assertNoSnapshots(t, r)
			mustCheck(t, repotest.Open(t, f), false)
			res := backup(t, r, []string{src}, archiver.Options{})
			dst := t.TempDir()
			restore(t, r, res.Snapshot, restorer.Options{Target: dst})
			testtree.Compare(t, src, filepath.Join(dst, "src"))
		})
	}
}

func assertNoSnapshots(t *testing.T, r *repo.Repository) {
	t.Helper()
	all, err := snapshot.List(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Snapshots)+len(all.Damaged) != 0 {
		t.Fatalf("a failed backup left %d snapshots", len(all.Snapshots)+len(all.Damaged))
	}
}

func TestCrashMidBackupThenResume(t *testing.T) {
	src := sourceTree(t, 13)
	f := fault.Wrap(mem.New())
	r := repotest.Init(t, f)
	f.KillAfterPuts(3) // session + two packs, then the process "dies"
	if _, err := archiver.Backup(context.Background(), r, []string{src}, archiver.Options{}); !errors.Is(err, fault.ErrKilled) {
		t.Fatalf("backup after kill: err = %v, want ErrKilled", err)
	}
	f.Clear()
	// A new process finds no snapshot, a consistent repository, and the
	// packs the dead one uploaded.
	r2 := repotest.Open(t, f)
	assertNoSnapshots(t, r2)
	rep, err := checker.Check(context.Background(), r2, checker.Options{ReadData: true})
	if err != nil || !rep.OK() {
		t.Fatalf("check after crash: %v %v", err, rep)
	}
	packsBefore, _ := r2.ListPacks(context.Background())
	if len(packsBefore) == 0 {
		t.Fatal("the killed backup uploaded no pack; the test does not exercise resume")
	}
	r3 := repotest.Open(t, f)
	res := backup(t, r3, []string{src}, archiver.Options{})
	total := res.Snapshot.Stats.Bytes
	if added := res.Snapshot.Stats.BytesAdded; added >= total {
		t.Fatalf("resumed backup added %d of %d bytes: uploaded packs were not reused", added, total)
	}
	dst := t.TempDir()
	restore(t, r3, res.Snapshot, restorer.Options{Target: dst})
	testtree.Compare(t, src, filepath.Join(dst, "src"))
	mustCheck(t, r3, true)
}

func TestFlippedByteIsCaught(t *testing.T) {
	src := sourceTree(t, 14)
	dir := t.TempDir()
	r := repotest.Init(t, repotest.FS(t, dir))
	res := backup(t, r, []string{src}, archiver.Options{})
	packs, err := r.ListPacks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var victim repo.PackInfo
	for _, p := range packs {
		if p.Size > victim.Size {
			victim = p
		}
	}
	path := filepath.Join(dir, filepath.FromSlash(repo.PackName(victim.ID)))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/3] ^= 0x40
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r2 := repotest.Open(t, repotest.FS(t, dir))
	rep, err := checker.Check(context.Background(), r2, checker.Options{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !strings.Contains(rep.Problems[0].Object, victim.ID.String()) {
		t.Fatalf("check --read-data missed the flipped byte: %+v", rep.Problems)
	}
	out, err := restorer.Restore(context.Background(), r2, res.Snapshot, restorer.Options{Target: t.TempDir()})
	if err != nil || len(out.Damaged) != 1 || !errors.Is(out.Damaged[0].Err, repo.ErrCorrupt) ||
		!strings.Contains(out.Damaged[0].Error(), victim.ID.Short()) {
		t.Fatalf("restore of a corrupt pack: %v, damaged %v; want one damaged file naming pack %s", err, out, victim.ID.Short())
	}
}

// An entry that cannot be read is left out and reported, naming the path;
// the rest of the backup completes. As root a vanished path stands in for
// permission denied, which root never gets.
func TestUnreadableSourceIsAWarning(t *testing.T) {
	src := sourceTree(t, 15)
	bad := "/nonexistent-cairn-path"
	if os.Geteuid() != 0 {
		bad = filepath.Join(src, "a", "hard1")
		if err := os.Chmod(bad, 0); err != nil {
			t.Fatal(err)
		}
	}
	r := repotest.Init(t, mem.New())
	res, err := archiver.Backup(context.Background(), r, []string{src, bad}, archiver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Error(), bad) {
		t.Fatalf("warnings = %v, want one naming %s", res.Warnings, bad)
	}
	if res.Snapshot.Stats.Files == 0 {
		t.Fatal("the readable files were not backed up")
	}
}

func TestMissingPackIsNamed(t *testing.T) {
	src := sourceTree(t, 16)
	store := mem.New()
	r := repotest.Init(t, store)
	res := backup(t, r, []string{src}, archiver.Options{})
	packs, _ := r.ListPacks(context.Background())
	var victim repo.PackInfo
	for _, p := range packs {
		if p.Size > victim.Size {
			victim = p
		}
	}
	if err := store.Delete(context.Background(), repo.PackName(victim.ID)); err != nil {
		t.Fatal(err)
	}
	r2 := repotest.Open(t, store)
	rep, err := checker.Check(context.Background(), r2, checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !strings.Contains(rep.Problems[0].String(), victim.ID.String()) || !strings.Contains(rep.Problems[0].String(), "missing") {
		t.Fatalf("check did not name the missing pack: %v", rep.Problems)
	}
	// D9: the restore finishes and names every damaged file, the chunk
	// and the pack it was in.
	out, err := restorer.Restore(context.Background(), r2, res.Snapshot, restorer.Options{Target: t.TempDir()})
	if err != nil || len(out.Damaged) == 0 {
		t.Fatalf("restore with a missing pack: %v, %+v; want it to finish and list the damage", err, out)
	}
	for _, d := range out.Damaged {
		if !errors.Is(d.Err, repo.ErrBlobMissing) || !strings.Contains(d.Error(), victim.ID.Short()) || d.Path == "" || d.Blob.IsNull() {
			t.Fatalf("damage %v does not name the file, the chunk and the lost pack %s", d, victim.ID.Short())
		}
	}
}

// Faults on the real S3 path: errors and slow responses on a versitygw
// backed store still give a complete, checkable backup.
func TestTransientErrorsOnS3(t *testing.T) {
	var s3be repotest.Backend
	for _, be := range repotest.Backends(t) {
		if be.Name == "s3" {
			s3be = be
		}
	}
	src := sourceTree(t, 17)
	f := fault.Wrap(s3be.New(t))
	r := repotest.Init(t, retry.Wrap(f, retry.Policy{Sleep: noSleep}))
	f.Add(fault.Rule{Op: fault.OpPut, Prefix: "data/", Times: 2})
	f.Add(fault.Rule{Op: fault.OpPut, Prefix: "data/", Times: 2, Delay: 200 * time.Millisecond})
	f.Add(fault.Rule{Op: fault.OpGet, Prefix: "data/", Times: 2, Err: blob.ErrTransient})
	res := backup(t, r, []string{src}, archiver.Options{})
	dst := t.TempDir()
	restore(t, r, res.Snapshot, restorer.Options{Target: dst})
	testtree.Compare(t, src, filepath.Join(dst, "src"))
	mustCheck(t, r, true)
	if f.Calls(fault.OpPut) == 0 {
		t.Fatal("no calls reached the fault wrapper")
	}
}
