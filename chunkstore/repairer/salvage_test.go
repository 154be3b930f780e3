package repairer

import (
	"fmt"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

func TestSalvageExtents(t *testing.T) {
	id := func(b byte) core.ID { return core.ID{b} }
	// Every chunk is 10 bytes, except chunk 9, whose length is unknown.
	length := func(c core.ID) (int64, bool) { return 10, c != id(9) }
	for _, tc := range []struct {
		name string
		in   []snapshot.Extent
		lost []byte
		want string
	}{
		{"nothing lost", []snapshot.Extent{{Offset: 0, Chunks: []core.ID{id(1), id(2)}}}, nil, "[0:1,2]"},
		{"middle chunk", []snapshot.Extent{{Offset: 0, Chunks: []core.ID{id(1), id(2), id(3)}}}, []byte{2}, "[0:1 20:3]"},
		{"first chunk", []snapshot.Extent{{Offset: 100, Chunks: []core.ID{id(1), id(2)}}}, []byte{1}, "[110:2]"},
		{"whole extent", []snapshot.Extent{{Offset: 0, Chunks: []core.ID{id(1)}}, {Offset: 50, Chunks: []core.ID{id(2)}}}, []byte{1}, "[50:2]"},
		{"unknown length ends the extent", []snapshot.Extent{{Offset: 0, Chunks: []core.ID{id(1), id(9), id(3)}}, {Offset: 90, Chunks: []core.ID{id(4)}}}, []byte{9}, "[0:1 90:4]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lost := map[core.ID]bool{}
			for _, b := range tc.lost {
				lost[id(b)] = true
			}
			got := salvageExtents(tc.in, func(c core.ID) bool { return !lost[c] }, length)
			if s := show(got); s != tc.want {
				t.Fatalf("salvage = %s, want %s", s, tc.want)
			}
		})
	}
}

func show(exts []snapshot.Extent) string {
	out := "["
	for i, e := range exts {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%d:", e.Offset)
		for j, c := range e.Chunks {
			if j > 0 {
				out += ","
			}
			out += fmt.Sprint(c[0])
		}
	}
	return out + "]"
}
