package repocli

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// typeChars are the ls -l type letters of node types.
var typeChars = map[string]byte{
	snapshot.TypeFile: '-', snapshot.TypeDir: 'd', snapshot.TypeSymlink: 'l',
	snapshot.TypeCharDev: 'c', snapshot.TypeBlockDev: 'b', snapshot.TypeFIFO: 'p', snapshot.TypeSocket: 's',
}

// entry is a node with its path inside the snapshot ("/src/main.go").
type entry struct {
	path string
	node *snapshot.Node
}

// resolve returns the entries at p inside snap: the root's children for ""
// or "/", else the one node p names.
func resolve(ctx context.Context, l snapshot.BlobLoader, snap *snapshot.Snapshot, p string) ([]entry, error) {
	nodes, err := snapshot.LoadTree(ctx, l, snap.Tree)
	if err != nil {
		return nil, fmt.Errorf("load snapshot tree: %w", err)
	}
	clean := strings.Trim(path.Clean("/"+p), "/")
	if clean == "" {
		return children("/", nodes), nil
	}
	parts := strings.Split(clean, "/")
	for i, name := range parts {
		n := findNode(nodes, name)
		at := "/" + strings.Join(parts[:i+1], "/")
		if n == nil {
			return nil, fmt.Errorf("%q is not in the snapshot; list what is with 'cairn repo ls SNAPSHOT'", at)
		}
		if i == len(parts)-1 {
			return []entry{{path: at, node: n}}, nil
		}
		if n.Type != snapshot.TypeDir {
			return nil, fmt.Errorf("%q is a %s, not a directory", at, n.Type)
		}
		if nodes, err = snapshot.LoadTree(ctx, l, n.Subtree); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func findNode(nodes []*snapshot.Node, name string) *snapshot.Node {
	for _, n := range nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func children(dir string, nodes []*snapshot.Node) []entry {
	out := make([]entry, len(nodes))
	for i, n := range nodes {
		out[i] = entry{path: path.Join(dir, n.Name), node: n}
	}
	return out
}

// walk calls fn for each entry and, depth first in name order, everything
// below it.
func walk(ctx context.Context, l snapshot.BlobLoader, entries []entry, fn func(entry) error) error {
	for _, e := range entries {
		if err := fn(e); err != nil {
			return err
		}
		if e.node.Type != snapshot.TypeDir {
			continue
		}
		nodes, err := snapshot.LoadTree(ctx, l, e.node.Subtree)
		if err != nil {
			return fmt.Errorf("list %s: %w", e.path, err)
		}
		if err := walk(ctx, l, children(e.path, nodes), fn); err != nil {
			return err
		}
	}
	return nil
}
