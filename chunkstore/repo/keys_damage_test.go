package repo_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// D4: one damaged key file must not lock out the passwords of the others.
func TestDamagedKeyFileCostsOnlyItsPassword(t *testing.T) {
	store := mem.New()
	r := repotest.Init(t, store)
	other := []byte("another password")
	if _, err := r.AddKey(ctx, other, repotest.Options()); err != nil {
		t.Fatal(err)
	}
	name := "keys/" + r.KeyID().String()
	b, err := store.Get(ctx, name, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	b[10] ^= 1
	if err := store.Put(ctx, name, b); err != nil {
		t.Fatal(err)
	}

	var warnings []error
	opts := repotest.Options()
	opts.Warn = func(err error) { warnings = append(warnings, err) }
	r2, err := repo.Open(ctx, store, other, opts)
	if err != nil {
		t.Fatalf("open with the healthy key's password: %v", err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].Error(), name) {
		t.Fatalf("warnings %v, want one naming %s", warnings, name)
	}
	keys, err := r2.Keys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	damaged := 0
	for _, k := range keys {
		if k.Damage != "" {
			damaged++
		}
	}
	if damaged != 1 {
		t.Fatalf("keys %+v: want one marked damaged", keys)
	}

	_, err = repo.Open(ctx, store, repotest.Password, repotest.Options())
	var ue *repo.UnlockError
	if !errors.Is(err, crypto.ErrWrongPassword) || !errors.As(err, &ue) || len(ue.Damaged) != 1 {
		t.Fatalf("open with the damaged key's password: %v, want an UnlockError naming the damaged key", err)
	}
}
