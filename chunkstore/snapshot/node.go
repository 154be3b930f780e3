package snapshot

import (
	"fmt"
	"slices"
	"unicode/utf8"

	// Trees and content lists are decoded with the JSON v2 package (the
	// one Go ships as encoding/json/v2 behind GOEXPERIMENT=jsonv2): about
	// twice as fast as encoding/json on trees, and stricter, since it
	// rejects duplicate names and invalid UTF-8, which no writer of this
	// format produces. Encoding stays with encoding/json, so tree blobs
	// keep their bytes and their IDs.
	json "github.com/go-json-experiment/json"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

// Node types.
const (
	TypeFile     = "file"
	TypeDir      = "dir"
	TypeSymlink  = "symlink"
	TypeCharDev  = "chardev"
	TypeBlockDev = "blockdev"
	TypeFIFO     = "fifo"
	TypeSocket   = "socket"
)

// Xattr is one extended attribute.
type Xattr struct {
	Name  string `json:"name"`
	Value []byte `json:"value"`
	// NameRaw holds Name's bytes when they are not valid UTF-8 (see
	// Node.NameRaw).
	NameRaw []byte `json:"name_raw,omitempty"`
}

// Extent is a run of chunks stored back to back from Offset. Bytes of a file
// that no extent covers are holes: zeros that were not stored.
type Extent struct {
	Offset int64     `json:"offset"`
	Chunks []core.ID `json:"chunks"`
}

// Node is one entry of a directory.
type Node struct {
	Name       string  `json:"name"`
	Type       string  `json:"type"`
	Mode       uint32  `json:"mode"`
	UID        uint32  `json:"uid"`
	GID        uint32  `json:"gid"`
	Size       int64   `json:"size,omitempty"`
	MtimeNs    int64   `json:"mtime_ns"`
	CtimeNs    int64   `json:"ctime_ns,omitempty"`
	Inode      uint64  `json:"inode,omitempty"`
	DeviceID   uint64  `json:"device_id,omitempty"`
	Links      uint64  `json:"links,omitempty"`
	Rdev       uint64  `json:"rdev,omitempty"`
	LinkTarget string  `json:"link_target,omitempty"`
	Xattrs     []Xattr `json:"xattrs,omitempty"`
	// Content holds the extents inline; ContentLists names content-list
	// blobs instead when there are many chunks. At most one is set.
	Content      []Extent  `json:"content,omitempty"`
	ContentLists []core.ID `json:"content_lists,omitempty"`
	// Subtree names the tree blobs (parts, in order) of a directory.
	Subtree []core.ID `json:"subtree,omitempty"`
	// NameRaw and LinkTargetRaw carry Name's and LinkTarget's bytes when
	// they are not valid UTF-8, which a JSON string cannot hold (Linux
	// names are any bytes but '/' and NUL); Name then holds a readable
	// form with U+FFFD in place of the invalid bytes. They are set only
	// in the encoding: SaveTree fills them, ParseTree moves them back.
	NameRaw       []byte `json:"name_raw,omitempty"`
	LinkTargetRaw []byte `json:"link_target_raw,omitempty"`
}

var validTypes = map[string]bool{TypeFile: true, TypeDir: true, TypeSymlink: true,
	TypeCharDev: true, TypeBlockDev: true, TypeFIFO: true, TypeSocket: true}

// Validate checks the invariants a reader relies on.
func (n *Node) Validate() error {
	switch {
	case n.Name == "" || n.Name == "." || n.Name == ".." || containsSlashOrNUL(n.Name):
		return fmt.Errorf("node name %q is not a valid file name", n.Name)
	case !validTypes[n.Type]:
		return fmt.Errorf("node %q: unknown type %q", n.Name, n.Type)
	case n.Size < 0:
		return fmt.Errorf("node %q: negative size", n.Name)
	case n.Type != TypeFile && (len(n.Content) > 0 || len(n.ContentLists) > 0):
		return fmt.Errorf("node %q: a %s cannot have content", n.Name, n.Type)
	case len(n.Content) > 0 && len(n.ContentLists) > 0:
		return fmt.Errorf("node %q: both inline content and content lists", n.Name)
	case n.Type != TypeDir && len(n.Subtree) > 0:
		return fmt.Errorf("node %q: a %s cannot have a subtree", n.Name, n.Type)
	}
	return validateExtents(n.Name, n.Content, n.Size)
}

func validateExtents(name string, exts []Extent, size int64) error {
	var end int64
	for i, e := range exts {
		if e.Offset < end || e.Offset >= size || len(e.Chunks) == 0 || len(e.Chunks) > MaxExtentChunks {
			return fmt.Errorf("node %q: extent %d at %d overlaps, is empty or lies past the size %d", name, i, e.Offset, size)
		}
		end = e.Offset + 1
	}
	return nil
}

// withRawNames returns n as it is encoded: itself when every name is valid
// UTF-8, else a copy carrying the raw bytes beside the readable names.
func withRawNames(n *Node) *Node {
	if utf8.ValidString(n.Name) && utf8.ValidString(n.LinkTarget) && xattrNamesValid(n.Xattrs) {
		return n
	}
	c := *n
	if !utf8.ValidString(n.Name) {
		c.NameRaw = []byte(n.Name)
	}
	if !utf8.ValidString(n.LinkTarget) {
		c.LinkTargetRaw = []byte(n.LinkTarget)
	}
	c.Xattrs = slices.Clone(n.Xattrs)
	for i, x := range c.Xattrs {
		if !utf8.ValidString(x.Name) {
			c.Xattrs[i].NameRaw = []byte(x.Name)
		}
	}
	return &c
}

func xattrNamesValid(xs []Xattr) bool {
	for _, x := range xs {
		if !utf8.ValidString(x.Name) {
			return false
		}
	}
	return true
}

// takeRawNames puts the raw bytes of a decoded node's names back in place.
func takeRawNames(n *Node) {
	if n.NameRaw != nil {
		n.Name, n.NameRaw = string(n.NameRaw), nil
	}
	if n.LinkTargetRaw != nil {
		n.LinkTarget, n.LinkTargetRaw = string(n.LinkTargetRaw), nil
	}
	for i := range n.Xattrs {
		if x := &n.Xattrs[i]; x.NameRaw != nil {
			x.Name, x.NameRaw = string(x.NameRaw), nil
		}
	}
}

func containsSlashOrNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' || s[i] == 0 {
			return true
		}
	}
	return false
}

// Tree is the decoded form of one tree-blob part.
type Tree struct {
	Nodes []*Node `json:"nodes"`
}

// ParseTree decodes and validates one tree part.
func ParseTree(b []byte) (*Tree, error) {
	var t Tree
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("decode tree: %w", err)
	}
	prev := ""
	for i, n := range t.Nodes {
		if n == nil {
			return nil, fmt.Errorf("decode tree: node %d is null", i)
		}
		takeRawNames(n)
		if err := n.Validate(); err != nil {
			return nil, fmt.Errorf("decode tree: %w", err)
		}
		if i > 0 && n.Name <= prev {
			return nil, fmt.Errorf("decode tree: node %q is out of order or repeated", n.Name)
		}
		prev = n.Name
	}
	return &t, nil
}

// ContentList is the decoded form of a content-list blob.
type ContentList struct {
	Extents []Extent `json:"extents"`
}

// ParseContentList decodes a content-list blob.
func ParseContentList(b []byte) (*ContentList, error) {
	var c ContentList
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode content list: %w", err)
	}
	for i, e := range c.Extents {
		if len(e.Chunks) == 0 || len(e.Chunks) > MaxExtentChunks || e.Offset < 0 {
			return nil, fmt.Errorf("decode content list: extent %d is empty or negative", i)
		}
	}
	return &c, nil
}
