package extsort

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

func TestSortMatchesInMemorySort(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		memory int64
	}{
		{"empty", 0, 0},
		{"one buffer", 1000, 1 << 20},
		{"many runs", 200000, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := New(Config{RecordSize: 12, Compare: bytes.Compare, Dir: dir, Memory: tc.memory})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r := rand.New(rand.NewPCG(1, 2))
			var want [][]byte
			for i := 0; i < tc.n; i++ {
				rec := make([]byte, 12)
				binary.BigEndian.PutUint64(rec, r.Uint64()%5000) // many equal keys
				binary.BigEndian.PutUint32(rec[8:], uint32(i))
				want = append(want, rec)
				if err := s.Add(rec); err != nil {
					t.Fatal(err)
				}
			}
			slices.SortFunc(want, bytes.Compare)
			var got [][]byte
			if err := s.Sort(func(rec []byte) error { got = append(got, slices.Clone(rec)); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("sorted output differs: %d records, want %d", len(got), len(want))
			}
			if tc.n == 200000 && len(s.runs) < 2 {
				t.Fatalf("expected several runs, got %d", len(s.runs))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			left, _ := os.ReadDir(dir)
			if len(left) != 0 {
				t.Fatalf("%d run files left after Close", len(left))
			}
		})
	}
}

func TestAddRejectsWrongSize(t *testing.T) {
	s, err := New(Config{RecordSize: 8, Compare: bytes.Compare, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(make([]byte, 7)); err == nil {
		t.Fatal("a 7-byte record was accepted")
	}
}

func TestRemoveLeftovers(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/sort-123", []byte("x"), 0o600)
	os.WriteFile(dir+"/keep", []byte("x"), 0o600)
	if err := RemoveLeftovers(dir); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 || left[0].Name() != "keep" {
		t.Fatalf("left %v", left)
	}
}
