package dataset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Tree is many small text-like files in a deep directory tree, shaped like
// a source tree or a mail spool.
type Tree struct {
	Root  string // scratch directory holding the dataset directory
	Name  string // dataset name, also its directory name
	Seed  uint64
	Files int
	// MinSize and MaxSize bound the file sizes, drawn log-uniformly
	// between them: small files are the most common, as in real trees.
	MinSize, MaxSize int
	// ChangeFrac is the share of files the incremental variant rewrites;
	// it also adds and deletes ChangeFrac/10 of the files (at least 2).
	ChangeFrac float64

	once sync.Once
	lay  layout
}

// fileSpec is one file of the tree: where it is, how large, and which
// stream fills it.
type fileSpec struct {
	path    string // relative to the dataset directory
	size    int
	index   int // the PRNG unit; added files get indexes past Files
	version int
}

type layout struct {
	dirs     []string
	files    []fileSpec
	modified []fileSpec // version-1 contents of existing files
	deleted  []fileSpec
	added    []fileSpec
}

type treeParams struct {
	Kind                                 string
	Seed                                 uint64
	Files, MinSize, MaxSize, FilesPerDir int
	ChangeFrac                           float64
}

// filesPerDir sets how many directories the tree has: about one for every
// 16 files, in a random recursive tree, which is about 8 levels deep on
// average and over 20 at the deepest for 60k files.
const filesPerDir = 16

func (t *Tree) state() state { return state{root: t.Root, name: t.Name} }

// Dir is the directory the tools back up.
func (t *Tree) Dir() string { return t.state().dir() }

func (t *Tree) stamp() stamp {
	l := t.layout()
	return stamp{Generator: generatorVersion, Bytes: sumSizes(l.files), Files: len(l.files),
		Params: treeParams{Kind: "tree", Seed: t.Seed, Files: t.Files, MinSize: t.MinSize,
			MaxSize: t.MaxSize, FilesPerDir: filesPerDir, ChangeFrac: t.ChangeFrac}}
}

// Bytes is the logical size of the base tree.
func (t *Tree) Bytes() int64 { return sumSizes(t.layout().files) }

// MutatedBytes is the logical size with the incremental variant applied.
func (t *Tree) MutatedBytes() int64 {
	l := t.layout()
	return sumSizes(l.files) - sumSizes(l.deleted) + sumSizes(l.added) +
		sumSizes(l.modified) - sumSizes(t.originals(l.modified))
}

// Dirs is the number of directories below the root.
func (t *Tree) Dirs() int { return len(t.layout().dirs) }

// Changes reports how many files the incremental variant modifies, adds
// and deletes.
func (t *Tree) Changes() (modified, added, deleted int) {
	l := t.layout()
	return len(l.modified), len(l.added), len(l.deleted)
}

func sumSizes(fs []fileSpec) int64 {
	var n int64
	for _, f := range fs {
		n += int64(f.size)
	}
	return n
}

// originals returns the base specs of the given files.
func (t *Tree) originals(mod []fileSpec) []fileSpec {
	base := t.layout().files
	out := make([]fileSpec, len(mod))
	for i, m := range mod {
		out[i] = base[m.index]
	}
	return out
}

// Prepare generates the tree if it is missing or stale, and reverts the
// incremental variant if a previous run left it applied.
func (t *Tree) Prepare(ctx context.Context) error {
	return t.state().prepare(t.stamp(), func() error { return t.generate(ctx) }, t.Revert)
}

func (t *Tree) layout() layout {
	t.once.Do(func() { t.lay = t.makeLayout() })
	return t.lay
}

// makeLayout draws directories, then files into them, then the variant.
func (t *Tree) makeLayout() layout {
	r := rand.New(newRand(t.Seed, t.Name+"/layout", 0, 0))
	var l layout
	dirs := []string{"."}
	for i := range max(1, t.Files/filesPerDir) {
		parent := dirs[r.IntN(len(dirs))]
		d := filepath.Join(parent, fmt.Sprintf("%s%04d", vocab[r.IntN(vocabSize)], i))
		dirs = append(dirs, d)
		l.dirs = append(l.dirs, d)
	}
	newFile := func(index int) fileSpec {
		dir := dirs[r.IntN(len(dirs))]
		name := fmt.Sprintf("%s_%05d.txt", vocab[r.IntN(vocabSize)], index)
		return fileSpec{path: filepath.Join(dir, name), size: t.drawSize(r), index: index}
	}
	for i := range t.Files {
		l.files = append(l.files, newFile(i))
	}
	perm := r.Perm(t.Files)
	nMod := max(1, int(float64(t.Files)*t.ChangeFrac))
	nAddDel := max(2, nMod/10)
	for _, i := range perm[:nMod] {
		f := l.files[i]
		f.size, f.version = t.drawSize(r), 1
		l.modified = append(l.modified, f)
	}
	for _, i := range perm[nMod : nMod+nAddDel] {
		l.deleted = append(l.deleted, l.files[i])
	}
	for i := range nAddDel {
		l.added = append(l.added, newFile(t.Files+i))
	}
	return l
}

// drawSize draws log-uniformly in [MinSize, MaxSize].
func (t *Tree) drawSize(r *rand.Rand) int {
	lo, hi := math.Log(float64(t.MinSize)), math.Log(float64(t.MaxSize))
	return int(math.Exp(lo + r.Float64()*(hi-lo)))
}

func (t *Tree) generate(ctx context.Context) error {
	l := t.layout()
	for _, d := range l.dirs {
		if err := os.MkdirAll(filepath.Join(t.Dir(), d), 0o755); err != nil {
			return err
		}
	}
	return t.writeFiles(ctx, l.files)
}

// writeFiles writes files in parallel, two workers per CPU because file
// creation waits on the filesystem as much as it computes.
func (t *Tree) writeFiles(ctx context.Context, files []fileSpec) error {
	g, ctx := errgroup.WithContext(ctx)
	workers := 2 * runtime.NumCPU()
	for w := range workers {
		g.Go(func() error {
			buf := make([]byte, t.MaxSize)
			for i := w; i < len(files); i += workers {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := t.writeFile(files[i], buf); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// writeFile writes one file's content, truncating it in place if it
// exists, so a modified file keeps its inode as an edited file does.
func (t *Tree) writeFile(f fileSpec, buf []byte) error {
	b := buf[:f.size]
	fillText(newRand(t.Seed, t.Name, f.index, f.version), b)
	p := filepath.Join(t.Dir(), f.path)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// Mutate applies the incremental variant: modified files rewritten in
// place, some added and some deleted.
func (t *Tree) Mutate() error {
	s := t.state()
	if err := s.setMutated(true); err != nil {
		return err
	}
	l := t.layout()
	if err := t.writeFiles(context.Background(), slices.Concat(l.modified, l.added)); err != nil {
		return fmt.Errorf("dataset %s: %w", t.Name, err)
	}
	return t.remove(l.deleted)
}

// Revert restores the base tree: originals rewritten, deleted files
// written again, added files removed.
func (t *Tree) Revert() error {
	l := t.layout()
	back := slices.Concat(t.originals(l.modified), l.deleted)
	if err := t.writeFiles(context.Background(), back); err != nil {
		return fmt.Errorf("dataset %s: %w", t.Name, err)
	}
	if err := t.remove(l.added); err != nil {
		return err
	}
	return t.state().setMutated(false)
}

func (t *Tree) remove(files []fileSpec) error {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	return removePaths(t.Name, t.Dir(), paths)
}

// removePaths removes files of a dataset; ones already gone are fine.
func removePaths(name, dir string, paths []string) error {
	for _, p := range paths {
		err := os.Remove(filepath.Join(dir, p))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("dataset %s: %w", name, err)
		}
	}
	return nil
}
