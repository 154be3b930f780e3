package restorer

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// finish must set every file's and symlink's metadata before any
// directory's, and each directory's after the directories inside it: a
// directory's mode can take away the search permission a non-root
// restore needs to reach what is inside. Warnings come in plan order.
func TestFinishSetsDirectoriesLastAndInnermostFirst(t *testing.T) {
	// The plan's order: each directory after everything inside it.
	plan := []pending{
		{path: "a/b/f1", node: &snapshot.Node{Type: snapshot.TypeFile}},
		{path: "a/b/l", node: &snapshot.Node{Type: snapshot.TypeSymlink}},
		{path: "a/b", node: &snapshot.Node{Type: snapshot.TypeDir}},
		{path: "a/f2", node: &snapshot.Node{Type: snapshot.TypeFile}},
		{path: "a", node: &snapshot.Node{Type: snapshot.TypeDir}},
		{path: "g", node: &snapshot.Node{Type: snapshot.TypeFile}},
	}
	for i := range 40 {
		plan = append(plan, pending{path: fmt.Sprintf("x%d", i), node: &snapshot.Node{Type: snapshot.TypeFile}})
	}
	var mu sync.Mutex
	var order []string
	rs := &restore{metas: plan, apply: func(path string, _ *snapshot.Node, _ bool) []error {
		mu.Lock()
		order = append(order, path)
		mu.Unlock()
		return []error{errors.New(path)}
	}}
	rs.finish()
	if len(order) != len(plan) {
		t.Fatalf("metadata applied %d times for %d entries: %q", len(order), len(plan), order)
	}
	if got := order[len(order)-2:]; !slices.Equal(got, []string{"a/b", "a"}) {
		t.Fatalf("the last two applied were %q; want the directories, a/b before a", got)
	}
	for i, w := range rs.result.Warnings {
		if w.Error() != plan[i].path {
			t.Fatalf("warning %d is %q; want %q, in plan order", i, w, plan[i].path)
		}
	}
}
