package snapshot

import (
	"context"
	"fmt"
	"testing"

	"github.com/zeebo/blake3"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

type memBlobs map[core.ID][]byte

func (m memBlobs) Save(_ core.BlobType, id core.ID, plain []byte) (bool, error) {
	_, ok := m[id]
	m[id] = append([]byte(nil), plain...)
	return !ok, nil
}

func (m memBlobs) LoadBlob(_ context.Context, _ core.BlobType, id core.ID, _ []byte) ([]byte, error) {
	b, ok := m[id]
	if !ok {
		return nil, fmt.Errorf("blob %s missing", id.Short())
	}
	return b, nil
}

func hash(b []byte) core.ID { return core.ID(blake3.Sum256(b)) }

func TestLargeDirectorySplitsIntoParts(t *testing.T) {
	blobs := memBlobs{}
	var nodes []*Node
	for i := range 30000 {
		nodes = append(nodes, &Node{Name: fmt.Sprintf("file-%06d-with-a-longish-name", 29999-i), Type: TypeFile, Mode: 0o644,
			Xattrs: []Xattr{{Name: "user.pad", Value: make([]byte, 100)}}})
	}
	parts, err := SaveTree(blobs, hash, nodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 2 {
		t.Fatalf("%d parts for a large directory, want several", len(parts))
	}
	for _, p := range parts {
		if len(blobs[p]) > MaxPartSize {
			t.Fatalf("part of %d bytes exceeds %d", len(blobs[p]), MaxPartSize)
		}
	}
	got, err := LoadTree(context.Background(), blobs, parts)
	if err != nil || len(got) != 30000 || got[0].Name != "file-000000-with-a-longish-name" {
		t.Fatalf("load: %d nodes, err %v", len(got), err)
	}
}

func TestManyChunksGoToContentLists(t *testing.T) {
	blobs := memBlobs{}
	var exts []Extent
	for e := range 40 {
		ext := Extent{Offset: int64(e) << 40}
		for c := range MaxExtentChunks {
			ext.Chunks = append(ext.Chunks, core.ID{byte(e), byte(c), byte(c >> 8)})
		}
		exts = append(exts, ext)
	}
	n := &Node{Name: "disk.img", Type: TypeFile, Size: 41 << 40}
	if err := SetContent(blobs, hash, n, exts); err != nil {
		t.Fatal(err)
	}
	if len(n.Content) != 0 || len(n.ContentLists) != 3 {
		t.Fatalf("content inline %d, lists %d; want 0 and 3", len(n.Content), len(n.ContentLists))
	}
	got, err := Extents(context.Background(), blobs, n)
	if err != nil || len(got) != 40 || got[39].Offset != 39<<40 || got[39].Chunks[5] != exts[39].Chunks[5] {
		t.Fatalf("extents back: %d, err %v", len(got), err)
	}
	small := &Node{Name: "f", Type: TypeFile, Size: 10}
	if err := SetContent(blobs, hash, small, exts[:1][:1]); err != nil {
		t.Fatal(err)
	}
	tooLong := []Extent{{Chunks: make([]core.ID, MaxExtentChunks+1)}}
	if err := SetContent(blobs, hash, small, tooLong); err == nil {
		t.Fatal("an extent over MaxExtentChunks was accepted")
	}
}

// benchNodes is a directory of n small files of one chunk each, as in a
// source tree.
func benchNodes(n int) []*Node {
	nodes := make([]*Node, n)
	for i := range nodes {
		id := core.ID{byte(i), byte(i >> 8), 7}
		nodes[i] = &Node{Name: fmt.Sprintf("file_%05d.go", i), Type: TypeFile, Mode: 0o644, UID: 1000, GID: 1000,
			Size: 12345, MtimeNs: 1764000000123456789, CtimeNs: 1764000000123456789, Inode: 123456 + uint64(i),
			DeviceID: 2049, Links: 1, Content: []Extent{{Offset: 0, Chunks: []core.ID{id}}}}
	}
	return nodes
}

func BenchmarkSaveTree(b *testing.B) {
	nodes := benchNodes(16)
	hash := func(p []byte) core.ID { return core.ID(blake3.Sum256(p)) }
	for b.Loop() {
		if _, err := SaveTree(memBlobs{}, hash, nodes); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTree(b *testing.B) {
	for _, n := range []int{16, 1000} {
		s := memBlobs{}
		ids, err := SaveTree(s, func(p []byte) core.ID { return core.ID(blake3.Sum256(p)) }, benchNodes(n))
		if err != nil {
			b.Fatal(err)
		}
		data := s[ids[0]]
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := ParseTree(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestNamesThatAreNotUTF8SurviveTheirEncoding(t *testing.T) {
	blobs := memBlobs{}
	hash := func(p []byte) core.ID { return core.ID(blake3.Sum256(p)) }
	nodes := []*Node{
		{Name: "bad\xffname", Type: TypeFile, Mode: 0o644},
		{Name: "bad\xfename", Type: TypeSymlink, LinkTarget: "to\xc3", Mode: 0o777},
		{Name: "plain", Type: TypeFile, Xattrs: []Xattr{{Name: "user.\xff", Value: []byte("v")}}},
	}
	ids, err := SaveTree(blobs, hash, nodes)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadTree(context.Background(), blobs, ids)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bad\xfename", "bad\xffname", "plain"}
	if len(got) != len(want) {
		t.Fatalf("got %d nodes, want %d", len(got), len(want))
	}
	for i, n := range got {
		if n.Name != want[i] || n.NameRaw != nil {
			t.Errorf("node %d: name %q (raw %q), want %q", i, n.Name, n.NameRaw, want[i])
		}
	}
	if got[0].LinkTarget != "to\xc3" || got[2].Xattrs[0].Name != "user.\xff" {
		t.Errorf("link target %q, xattr name %q", got[0].LinkTarget, got[2].Xattrs[0].Name)
	}
	if nodes[0].NameRaw != nil || nodes[2].Xattrs[0].NameRaw != nil {
		t.Error("SaveTree changed the nodes it was given")
	}
}
