package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// Encoding limits; see the package documentation.
const (
	MaxPartSize  = 4 << 20
	InlineChunks = 64
	ListChunks   = 16384
	// MaxExtentChunks bounds one extent so content lists can be cut at
	// extent boundaries; writers start a new extent after this many chunks.
	MaxExtentChunks = 1024
)

// BlobSaver stores a blob unless the repository has it already.
type BlobSaver interface {
	Save(t core.BlobType, id core.ID, plain []byte) (bool, error)
}

// BlobLoader loads a blob's plaintext.
type BlobLoader interface {
	LoadBlob(ctx context.Context, t core.BlobType, id core.ID, dst []byte) ([]byte, error)
}

// HashFunc computes a blob ID; it must be safe for concurrent use or used
// by one goroutine.
type HashFunc func([]byte) core.ID

// SaveTree sorts nodes by name, encodes them into parts and stores each part
// as a tree blob. It returns the part IDs in order.
func SaveTree(s BlobSaver, hash HashFunc, nodes []*Node) ([]core.ID, error) {
	slices.SortFunc(nodes, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) })
	var ids []core.ID
	var part bytes.Buffer
	flush := func() error {
		part.WriteString("]}")
		id := hash(part.Bytes())
		if _, err := s.Save(core.TreeBlob, id, part.Bytes()); err != nil {
			return fmt.Errorf("save tree: %w", err)
		}
		ids = append(ids, id)
		part.Reset()
		return nil
	}
	part.WriteString(`{"nodes":[`)
	count := 0
	for _, n := range nodes {
		b, err := json.Marshal(withRawNames(n))
		if err != nil {
			return nil, fmt.Errorf("encode node %q: %w", n.Name, err)
		}
		if count > 0 && part.Len()+len(b)+2 > MaxPartSize {
			if err := flush(); err != nil {
				return nil, err
			}
			part.WriteString(`{"nodes":[`)
			count = 0
		}
		if count > 0 {
			part.WriteByte(',')
		}
		part.Write(b)
		count++
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return ids, nil
}

// LoadTree loads and joins the parts of a directory.
func LoadTree(ctx context.Context, l BlobLoader, parts []core.ID) ([]*Node, error) {
	var nodes []*Node
	for _, id := range parts {
		b, err := l.LoadBlob(ctx, core.TreeBlob, id, nil)
		if err != nil {
			return nil, err
		}
		t, err := ParseTree(b)
		if err != nil {
			return nil, fmt.Errorf("tree %s: %w", id.Short(), err)
		}
		if len(nodes) > 0 && len(t.Nodes) > 0 && t.Nodes[0].Name <= nodes[len(nodes)-1].Name {
			return nil, fmt.Errorf("tree %s: parts out of order", id.Short())
		}
		nodes = append(nodes, t.Nodes...)
	}
	return nodes, nil
}

// SetContent records a file's extents on n, inline when short and in
// content-list blobs otherwise.
func SetContent(s BlobSaver, hash HashFunc, n *Node, exts []Extent) error {
	n.Content, n.ContentLists = nil, nil
	for _, e := range exts {
		if len(e.Chunks) > MaxExtentChunks {
			return fmt.Errorf("node %q: extent at %d has %d chunks, over %d", n.Name, e.Offset, len(e.Chunks), MaxExtentChunks)
		}
	}
	if countChunks(exts) <= InlineChunks {
		n.Content = exts
		return nil
	}
	for _, list := range splitExtents(exts, ListChunks) {
		b, err := json.Marshal(ContentList{Extents: list})
		if err != nil {
			return fmt.Errorf("encode content list of %q: %w", n.Name, err)
		}
		id := hash(b)
		if _, err := s.Save(core.TreeBlob, id, b); err != nil {
			return fmt.Errorf("save content list of %q: %w", n.Name, err)
		}
		n.ContentLists = append(n.ContentLists, id)
	}
	return nil
}

// Extents returns a file node's extents, loading content lists if needed.
func Extents(ctx context.Context, l BlobLoader, n *Node) ([]Extent, error) {
	if len(n.ContentLists) == 0 {
		return n.Content, nil
	}
	var out []Extent
	for _, id := range n.ContentLists {
		b, err := l.LoadBlob(ctx, core.TreeBlob, id, nil)
		if err != nil {
			return nil, err
		}
		c, err := ParseContentList(b)
		if err != nil {
			return nil, fmt.Errorf("content list %s of %q: %w", id.Short(), n.Name, err)
		}
		out = append(out, c.Extents...)
	}
	return out, nil
}

func countChunks(exts []Extent) int {
	n := 0
	for _, e := range exts {
		n += len(e.Chunks)
	}
	return n
}

// splitExtents groups extents into lists of at most max chunks. Extents
// are never split (they hold at most MaxExtentChunks), so every extent keeps
// its own offset.
func splitExtents(exts []Extent, max int) [][]Extent {
	var groups [][]Extent
	var cur []Extent
	n := 0
	for _, e := range exts {
		if n+len(e.Chunks) > max && len(cur) > 0 {
			groups, cur, n = append(groups, cur), nil, 0
		}
		cur = append(cur, e)
		n += len(e.Chunks)
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}
