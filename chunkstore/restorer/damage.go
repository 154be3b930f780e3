package restorer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// Damage is a part of the snapshot that a restore could not write whole
// because the repository lost it or holds it corrupt: a range of a file,
// or a directory's listing. Everything else is still restored, with its
// metadata.
type Damage struct {
	// Path is where the damaged file or directory was restored.
	Path string
	// Blob is the chunk, content list or tree blob that failed.
	Blob core.ID
	// Offset is where the chunk belongs in the file; -1 for a directory
	// listing or a file's whole content list.
	Offset int64
	Err    error
}

func (d Damage) Error() string {
	what := fmt.Sprintf("chunk %s at offset %d", d.Blob.Short(), d.Offset)
	if d.Offset < 0 {
		what = "blob " + d.Blob.Short()
	}
	return fmt.Sprintf("%s: %s: %v", d.Path, what, d.Err)
}

// isDamage tells repository damage, which a restore goes past, from a
// failure of the store or the target, which stops it: a store that does
// not answer must not turn every file into a damaged one.
func isDamage(err error) bool {
	return errors.Is(err, repo.ErrCorrupt) || errors.Is(err, repo.ErrBlobMissing) ||
		errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrRange)
}

// damages collects what fetch workers found damaged.
type damages struct {
	mu   sync.Mutex
	list []Damage
}

func (d *damages) add(x Damage) {
	d.mu.Lock()
	d.list = append(d.list, x)
	d.mu.Unlock()
}

// sorted returns the damage by path, then offset.
func (d *damages) sorted() []Damage {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := slices.Clone(d.list)
	slices.SortFunc(out, func(a, b Damage) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return int(a.Offset - b.Offset)
	})
	return out
}

// damageItem records a chunk that could not be read at every place it
// goes. A file meant to be created by that chunk's write is created empty
// at its size instead, so it exists for its metadata.
func (rs *restore) damageItem(it *item, err error) {
	for _, t := range it.targets {
		rs.damage.add(Damage{Path: t.file.path, Blob: it.id, Offset: t.off, Err: err})
		t.file.markDamaged()
		switch {
		case t.file.byWrite:
			if cerr := createSized(t.file.path, t.file.node.Size); cerr != nil {
				rs.warn(cerr)
			}
		case t.file.device:
			// A device keeps its old bytes where the chunk would go.
			if zerr := zeroAt(t.file.path, t.off, int64(it.loc.RawLength)); zerr != nil {
				rs.warn(zerr)
			}
		}
	}
}
