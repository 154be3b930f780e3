package snapshot

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

func FuzzParseTree(f *testing.F) {
	id := core.ID{1}
	tree := Tree{Nodes: []*Node{
		{Name: "a", Type: TypeDir, Mode: 0o755, Subtree: []core.ID{id}},
		{Name: "b", Type: TypeFile, Mode: 0o644, Size: 10, Content: []Extent{{Offset: 0, Chunks: []core.ID{id}}}},
		{Name: "c", Type: TypeSymlink, LinkTarget: "a", Xattrs: []Xattr{{Name: "user.x", Value: []byte{0}}}},
	}}
	b, _ := json.Marshal(tree)
	f.Add(b)
	f.Add([]byte(`{"nodes":[{"name":"..","type":"file"}]}`))
	f.Add([]byte(`{"nodes":[{"name":"b","type":"file"},{"name":"a","type":"file"}]}`))
	f.Add([]byte(`{"nodes":[null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ParseTree(b)
		if err != nil {
			return
		}
		for i, n := range tr.Nodes {
			if err := n.Validate(); err != nil {
				t.Fatalf("accepted invalid node %d: %v", i, err)
			}
			if i > 0 && tr.Nodes[i-1].Name >= n.Name {
				t.Fatal("accepted unsorted nodes")
			}
		}
	})
}

func FuzzParseContentList(f *testing.F) {
	b, _ := json.Marshal(ContentList{Extents: []Extent{{Offset: 5, Chunks: []core.ID{{2}}}}})
	f.Add(b)
	f.Add([]byte(`{"extents":[{"offset":-1,"chunks":[]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseContentList(b)
		if err != nil {
			return
		}
		for _, e := range c.Extents {
			if e.Offset < 0 || len(e.Chunks) == 0 || len(e.Chunks) > MaxExtentChunks {
				t.Fatalf("accepted extent %+v", e)
			}
		}
	})
}

func FuzzParseSnapshot(f *testing.F) {
	s := Snapshot{Version: Version, Kind: KindFiles, Time: time.Unix(1, 0), Paths: []string{"/x"}, Tree: []core.ID{{3}}}
	b, _ := json.Marshal(s)
	f.Add(b)
	f.Add([]byte(`{"version":1,"kind":"block","tree":[]}`))
	f.Add([]byte(`{"version":9}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		if s.Version != Version || len(s.Tree) == 0 || (s.Kind != KindFiles && s.Kind != KindBlock) {
			t.Fatalf("accepted invalid snapshot %+v", s)
		}
	})
}
