package idset

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

func TestSetAnswersAsAMap(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 1))
	b, err := NewBuilder(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	want := map[core.ID]bool{}
	var ids []core.ID
	for range 20000 {
		var id core.ID
		for i := range id {
			id[i] = byte(r.Uint32())
		}
		if r.IntN(50) == 0 {
			id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7] = 1, 2, 3, 4, 5, 6, 7, 8 // shared prefixes across blocks
		}
		ids = append(ids, id)
		if r.IntN(2) == 0 {
			want[id] = true
			for range 1 + r.IntN(2) {
				if err := b.Add(id); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	path := filepath.Join(dir, "refs")
	s, err := b.Finish(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != int64(len(want)) {
		t.Fatalf("Len %d, want %d", s.Len(), len(want))
	}
	check := func(s *Set) {
		for _, id := range ids {
			got, err := s.Has(id)
			if err != nil || got != want[id] {
				t.Fatalf("Has(%s) = %v, %v; want %v", id.Short(), got, err, want[id])
			}
		}
	}
	check(s)
	s.Close()
	s, err = Open(path) // as a resumed prune does
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
}
