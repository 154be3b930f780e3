package restorer

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cairnbackup/cairn/chunkstore/fsmeta"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// finish applies metadata once every file is written: everything but
// directories first, by several workers at once (each entry costs three or
// four system calls, and a tree of small files has many), then the
// directories one by one in the order they were planned, which puts each
// after the directories inside it, so a directory's mode (one without
// search permission, say) is set only when nothing inside it is left to
// reach. Setting an entry's metadata does not touch its directory's times.
// Warnings keep the order of rs.metas.
func (rs *restore) finish() {
	canChown := os.Geteuid() == 0
	apply := rs.apply
	if apply == nil {
		apply = applyMeta
	}
	errs := make([][]error, len(rs.metas))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range metaWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(rs.metas); i = int(next.Add(1) - 1) {
				if m := rs.metas[i]; m.node.Type != snapshot.TypeDir {
					errs[i] = apply(m.path, m.node, canChown)
				}
			}
		})
	}
	wg.Wait()
	for i, m := range rs.metas {
		if m.node.Type == snapshot.TypeDir {
			errs[i] = apply(m.path, m.node, canChown)
		}
	}
	for _, e := range errs {
		rs.result.Warnings = append(rs.result.Warnings, e...)
	}
}

// metaWorkers apply metadata at once: enough to keep every CPU in the
// kernel on a local file system, and some system calls in flight on a
// network one, where each waits for the server.
var metaWorkers = max(4, runtime.GOMAXPROCS(0))

func applyMeta(path string, n *snapshot.Node, chown bool) []error {
	var errs []error
	symlink := n.Type == snapshot.TypeSymlink
	if len(n.Xattrs) > 0 {
		xs := make([]fsmeta.Xattr, len(n.Xattrs))
		for i, x := range n.Xattrs {
			xs[i] = fsmeta.Xattr{Name: x.Name, Value: x.Value}
		}
		if err := fsmeta.SetXattrs(path, xs); err != nil {
			errs = append(errs, fmt.Errorf("restore xattrs of %s: %w", path, err))
		}
	}
	if chown {
		if err := fsmeta.SetOwner(path, n.UID, n.GID); err != nil && !errors.Is(err, fsmeta.ErrNotPermitted) {
			errs = append(errs, fmt.Errorf("restore owner of %s: %w", path, err))
		}
	}
	if !symlink {
		// after chown, which clears setuid and setgid bits
		if err := fsmeta.SetMode(path, n.Mode); err != nil {
			errs = append(errs, fmt.Errorf("restore mode of %s: %w", path, err))
		}
	}
	if err := fsmeta.SetTimes(path, n.MtimeNs, n.MtimeNs); err != nil {
		errs = append(errs, fmt.Errorf("restore times of %s: %w", path, err))
	}
	return errs
}
