package repo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

var ctx = context.Background()

func TestInitOpenAndPasswords(t *testing.T) {
	store := mem.New()
	if _, err := repo.Open(ctx, store, repotest.Password, repotest.Options()); !errors.Is(err, repo.ErrNoRepository) ||
		!strings.Contains(err.Error(), "cairn repo init") {
		t.Fatalf("open of an empty store: %v, want ErrNoRepository with the fix", err)
	}
	r := repotest.Init(t, store)
	if _, err := repo.Init(ctx, store, repotest.Password, repotest.Options()); !errors.Is(err, repo.ErrExists) {
		t.Fatalf("second init: %v, want ErrExists", err)
	}
	_, err := repo.Open(ctx, store, []byte("wrong"), repotest.Options())
	if !errors.Is(err, crypto.ErrWrongPassword) || !strings.Contains(err.Error(), "CAIRN_PASSWORD") {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") && strings.Contains(err.Error(), string(repotest.Password)) {
		t.Fatal("error leaks a password")
	}
	if r.Config().Version != repo.FormatVersion {
		t.Fatalf("config version %d", r.Config().Version)
	}
}

func TestKeyManagement(t *testing.T) {
	store := mem.New()
	r := repotest.Init(t, store)
	second, err := r.AddKey(ctx, []byte("second password"), repotest.Options())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := r.Keys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys = %v, %v; want 2", keys, err)
	}
	r2, err := repo.Open(ctx, store, []byte("second password"), repotest.Options())
	if err != nil || r2.KeyID() != second {
		t.Fatalf("open with the second password: %v", err)
	}
	if err := r2.RemoveKey(ctx, second); err == nil {
		t.Fatal("removing the key in use succeeded")
	}
	if err := r2.RemoveKey(ctx, r.KeyID()); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Open(ctx, store, repotest.Password, repotest.Options()); !errors.Is(err, crypto.ErrWrongPassword) {
		t.Fatalf("removed key still opens the repository: %v", err)
	}
	if _, err := r2.ChangePassword(ctx, []byte("third"), repotest.Options()); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Open(ctx, store, []byte("second password"), repotest.Options()); !errors.Is(err, crypto.ErrWrongPassword) {
		t.Fatalf("old password still works after passwd: %v", err)
	}
	r3, err := repo.Open(ctx, store, []byte("third"), repotest.Options())
	if err != nil {
		t.Fatalf("new password: %v", err)
	}
	if r3.Config().ID != r.Config().ID {
		t.Fatal("passwd changed the repository identity")
	}
	if _, err := r3.AddKey(ctx, nil, repotest.Options()); err == nil {
		t.Fatal("an empty password was accepted")
	}
}

func TestTruncatedIndexIsSkippedAndReindexed(t *testing.T) {
	store := mem.New()
	r := repotest.Init(t, store)
	s, err := r.NewSaver(ctx, repo.SaverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("some chunk")
	if _, err := s.Save(core.DataBlob, r.NewHasher().Sum(plain), plain); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Close(ctx)
	ids, _ := r.ListFiles(ctx, repo.KindIndex)
	name := repo.KindIndex + "/" + ids[0].String()
	b, _ := store.Get(ctx, name, 0, -1)
	if err := store.Put(ctx, name, b[:len(b)/2]); err != nil {
		t.Fatal(err)
	}
	// D7: the damaged file is skipped with one warning that names it and
	// the fix, and its pack is indexed from its header, so the blob still
	// loads.
	var warnings []error
	opts := repotest.Options()
	opts.Warn = func(err error) { warnings = append(warnings, err) }
	r2, err := repo.Open(ctx, store, repotest.Password, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.LoadIndex(ctx); err != nil {
		t.Fatalf("load index with a truncated file: %v", err)
	}
	if len(warnings) != 1 || !errors.Is(warnings[0], repo.ErrCorrupt) || !strings.Contains(warnings[0].Error(), name) ||
		!strings.Contains(warnings[0].Error(), "cairn repo repair --apply") {
		t.Fatalf("warnings %v: want one naming %s and the repair", warnings, name)
	}
	if got, err := r2.LoadBlob(ctx, core.DataBlob, r.NewHasher().Sum(plain), nil); err != nil || string(got) != string(plain) {
		t.Fatalf("blob of the damaged file's pack: %q, %v", got, err)
	}
	if err := r2.LoadIndex(ctx); err != nil || len(warnings) != 1 {
		t.Fatalf("reload: %v; the damaged file was reported %d times", err, len(warnings))
	}
}

func TestSaverDedupsAndLoads(t *testing.T) {
	r := repotest.Init(t, mem.New())
	s, err := r.NewSaver(ctx, repo.SaverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := r.NewHasher()
	text := []byte(strings.Repeat("compressible text ", 5000))
	id := h.Sum(text)
	for i := range 3 {
		added, err := s.Save(core.DataBlob, id, text)
		if err != nil || added != (i == 0) {
			t.Fatalf("save %d: added=%v err=%v", i, added, err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Close(ctx)
	if stored := s.Stats.BytesStored.Load(); stored >= int64(len(text))/4 {
		t.Fatalf("text stored as %d bytes of %d: not compressed", stored, len(text))
	}
	got, err := r.LoadBlob(ctx, core.DataBlob, id, nil)
	if err != nil || string(got) != string(text) {
		t.Fatalf("load: %v", err)
	}
	if _, err := r.LoadBlob(ctx, core.DataBlob, h.Sum([]byte("absent")), nil); !errors.Is(err, repo.ErrBlobMissing) {
		t.Fatalf("missing blob: %v", err)
	}
}

// Two writers running at once: the second dedups against what the first
// stored after the second had started, once its index refresh runs.
func TestConcurrentWritersDedup(t *testing.T) {
	store := mem.New()
	r := repotest.Init(t, store)
	a, err := r.NewSaver(ctx, repo.SaverOptions{IndexRefresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	rb := repotest.Open(t, store)
	b, err := rb.NewSaver(ctx, repo.SaverOptions{IndexRefresh: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("shared between writers")
	id := r.NewHasher().Sum(plain)
	if _, err := a.Save(core.DataBlob, id, plain); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_ = a.Close(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for !b.Has(id) {
		if time.Now().After(deadline) {
			t.Fatal("writer b never saw writer a's blob")
		}
		time.Sleep(10 * time.Millisecond)
	}
	added, err := b.Save(core.DataBlob, id, plain)
	if err != nil || added {
		t.Fatalf("writer b stored the blob again (added=%v, err=%v)", added, err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_ = b.Close(ctx)
}
