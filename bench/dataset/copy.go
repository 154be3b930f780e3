package dataset

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Copy is a real directory tree copied into the scratch directory: files no
// generator made, with the sizes, depths and redundancy of real source code.
// Its incremental variant edits some files in place (a line inserted in the
// middle), adds files beside others and deletes some; Revert copies the
// originals back from the source.
type Copy struct {
	Root string // scratch directory holding the dataset directory
	Name string // dataset name, also its directory name
	// Source is the tree copied; Skip names its top-level entries left out.
	Source string
	Skip   []string
	Seed   uint64
	// ChangeFrac is the share of files the incremental variant edits; it
	// also adds and deletes ChangeFrac/10 of the files (at least 2).
	ChangeFrac float64

	once sync.Once
	lay  copyLayout
	err  error
}

// sourceFile is one regular file of the source tree.
type sourceFile struct {
	path string // relative to the source (and to the dataset directory)
	size int64
	mode fs.FileMode
}

type copyLayout struct {
	dirs     []string
	links    []string
	files    []sourceFile
	modified []sourceFile
	deleted  []sourceFile
	added    []sourceFile // each a new name beside the file it derives from
	from     map[string]string
}

type copyParams struct {
	Kind       string
	Source     string
	Skip       []string
	Seed       uint64
	ChangeFrac float64
}

func (c *Copy) state() state { return state{root: c.Root, name: c.Name} }

// Dir is the directory the tools back up.
func (c *Copy) Dir() string { return c.state().dir() }

func (c *Copy) stamp() (stamp, error) {
	l, err := c.layout()
	if err != nil {
		return stamp{}, err
	}
	return stamp{Generator: generatorVersion, Bytes: sumSourceSizes(l.files), Files: len(l.files),
		Params: copyParams{Kind: "copy", Source: c.Source, Skip: c.Skip, Seed: c.Seed, ChangeFrac: c.ChangeFrac}}, nil
}

// Bytes is the logical size of the copied tree; it is 0 if the source
// cannot be listed (Prepare reports why).
func (c *Copy) Bytes() int64 {
	l, _ := c.layout()
	return sumSourceSizes(l.files)
}

// MutatedBytes is the logical size with the incremental variant applied:
// each edited file grows by one line, added files are as large as the
// files they derive from.
func (c *Copy) MutatedBytes() int64 {
	l, _ := c.layout()
	n := sumSourceSizes(l.files) - sumSourceSizes(l.deleted) + sumSourceSizes(l.added)
	return n + int64(len(l.modified))*int64(len(editLine(0)))
}

// Files is the number of regular files; Dirs the number of directories
// below the root.
func (c *Copy) Files() int { l, _ := c.layout(); return len(l.files) }
func (c *Copy) Dirs() int  { l, _ := c.layout(); return len(l.dirs) }

// Changes reports how many files the incremental variant edits, adds and
// deletes.
func (c *Copy) Changes() (modified, added, deleted int) {
	l, _ := c.layout()
	return len(l.modified), len(l.added), len(l.deleted)
}

func sumSourceSizes(fs []sourceFile) int64 {
	var n int64
	for _, f := range fs {
		n += f.size
	}
	return n
}

// Prepare copies the tree if it is missing or stale, and reverts the
// incremental variant if a previous run left it applied.
func (c *Copy) Prepare(ctx context.Context) error {
	st, err := c.stamp()
	if err != nil {
		return err
	}
	return c.state().prepare(st, func() error { return c.copyAll(ctx) }, c.Revert)
}

func (c *Copy) layout() (copyLayout, error) {
	c.once.Do(func() { c.lay, c.err = c.makeLayout() })
	return c.lay, c.err
}

// makeLayout lists the source in lexical order, then draws the variant.
func (c *Copy) makeLayout() (copyLayout, error) {
	var l copyLayout
	err := filepath.WalkDir(c.Source, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c.Source, p)
		if rel == "." {
			return nil
		}
		if slices.Contains(c.Skip, rel) {
			return fs.SkipDir
		}
		switch {
		case d.IsDir():
			l.dirs = append(l.dirs, rel)
		case d.Type()&fs.ModeSymlink != 0:
			l.links = append(l.links, rel)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			l.files = append(l.files, sourceFile{path: rel, size: info.Size(), mode: info.Mode().Perm()})
		}
		return nil
	})
	if err != nil {
		return l, fmt.Errorf("dataset %s: list %s: %w", c.Name, c.Source, err)
	}
	if len(l.files) < 4 {
		return l, fmt.Errorf("dataset %s: %s holds %d files; it needs at least 4", c.Name, c.Source, len(l.files))
	}
	c.drawVariant(&l)
	return l, nil
}

func (c *Copy) drawVariant(l *copyLayout) {
	r := rand.New(newRand(c.Seed, c.Name+"/variant", 0, 0))
	perm := r.Perm(len(l.files))
	nMod := max(1, int(float64(len(l.files))*c.ChangeFrac))
	nAddDel := max(2, nMod/10)
	nAddDel = min(nAddDel, (len(l.files)-nMod)/2)
	for _, i := range perm[:nMod] {
		l.modified = append(l.modified, l.files[i])
	}
	for _, i := range perm[nMod : nMod+nAddDel] {
		l.deleted = append(l.deleted, l.files[i])
	}
	l.from = map[string]string{}
	for k, i := range perm[nMod+nAddDel : nMod+2*nAddDel] {
		f := l.files[i]
		added := sourceFile{path: filepath.Join(filepath.Dir(f.path), fmt.Sprintf("bench_added_%d_%s", k, filepath.Base(f.path))),
			size: f.size, mode: f.mode}
		l.added = append(l.added, added)
		l.from[added.path] = f.path
	}
}

func (c *Copy) copyAll(ctx context.Context) error {
	l, err := c.layout()
	if err != nil {
		return err
	}
	if err := c.fenceOff(); err != nil {
		return err
	}
	for _, d := range l.dirs {
		if err := os.MkdirAll(filepath.Join(c.Dir(), d), 0o755); err != nil {
			return err
		}
	}
	for _, p := range l.links {
		target, err := os.Readlink(filepath.Join(c.Source, p))
		if err != nil {
			return err
		}
		if err := os.Symlink(target, filepath.Join(c.Dir(), p)); err != nil {
			return err
		}
	}
	return c.copyFiles(ctx, l.files)
}

// fenceOff writes a go.mod beside the copy, so that the go command and
// linters run on the enclosing module (`go vet ./...`) do not take a copied
// Go tree for packages of theirs.
func (c *Copy) fenceOff() error {
	if err := os.MkdirAll(c.Root, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.Root, "go.mod"), []byte("module benchscratch\n"), 0o644)
}

// copyFiles copies files from the source, each rewritten in place if it
// exists so that it keeps its inode.
func (c *Copy) copyFiles(ctx context.Context, files []sourceFile) error {
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(c.Source, f.path))
		if err != nil {
			return fmt.Errorf("dataset %s: %w", c.Name, err)
		}
		if err := c.write(f, b); err != nil {
			return err
		}
	}
	return nil
}

func (c *Copy) write(f sourceFile, b []byte) error {
	if err := os.WriteFile(filepath.Join(c.Dir(), f.path), b, f.mode|0o200); err != nil {
		return fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	return nil
}

// editLine is the line the variant inserts into the k-th edited file.
func editLine(k int) string {
	return fmt.Sprintf("// edited by the benchmark's incremental variant, change %06d\n", k)
}

// insertLine puts line after the line break nearest the middle of b.
func insertLine(b []byte, line string) []byte {
	at := len(b) / 2
	if i := bytes.IndexByte(b[at:], '\n'); i >= 0 {
		at += i + 1
	} else {
		at = len(b)
	}
	return slices.Concat(b[:at:at], []byte(line), b[at:])
}

// reversedLines is b with its lines in the opposite order: text as real
// as its source, but new to every tool's deduplication.
func reversedLines(b []byte) []byte {
	lines := strings.SplitAfter(string(b), "\n")
	slices.Reverse(lines)
	return []byte(strings.Join(lines, ""))
}

// Mutate applies the incremental variant.
func (c *Copy) Mutate() error {
	l, err := c.layout()
	if err != nil {
		return err
	}
	if err := c.state().setMutated(true); err != nil {
		return err
	}
	for k, f := range l.modified {
		b, err := os.ReadFile(filepath.Join(c.Source, f.path))
		if err != nil {
			return fmt.Errorf("dataset %s: %w", c.Name, err)
		}
		if err := c.write(f, insertLine(b, editLine(k))); err != nil {
			return err
		}
	}
	for _, f := range l.added {
		b, err := os.ReadFile(filepath.Join(c.Source, l.from[f.path]))
		if err != nil {
			return fmt.Errorf("dataset %s: %w", c.Name, err)
		}
		if err := c.write(f, reversedLines(b)); err != nil {
			return err
		}
	}
	return removePaths(c.Name, c.Dir(), sourcePaths(l.deleted))
}

// Revert restores the copied tree: edited and deleted files copied again,
// added files removed.
func (c *Copy) Revert() error {
	l, err := c.layout()
	if err != nil {
		return err
	}
	if err := c.copyFiles(context.Background(), slices.Concat(l.modified, l.deleted)); err != nil {
		return err
	}
	if err := removePaths(c.Name, c.Dir(), sourcePaths(l.added)); err != nil {
		return err
	}
	return c.state().setMutated(false)
}

func sourcePaths(files []sourceFile) []string {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	return paths
}
