package restorer

import (
	"errors"
	"fmt"
	"os"

	"github.com/cairnbackup/cairn/chunkstore/fsmeta"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// finish applies metadata in reverse creation order: a directory was
// appended after all its children, so reversing sets children first and a
// directory's times last.
func (rs *restore) finish() {
	canChown := os.Geteuid() == 0
	for i := len(rs.metas) - 1; i >= 0; i-- {
		m := rs.metas[i]
		rs.result.Warnings = append(rs.result.Warnings, applyMeta(m.path, m.node, canChown)...)
	}
}

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
