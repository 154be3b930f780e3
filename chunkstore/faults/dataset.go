package faults

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

// dataset is a source tree the campaign backs up and changes, seeded so a
// run can be replayed. It is text-like files in a few directories, some
// large random files (several packs of data) and a symlink.
type dataset struct {
	dir  string
	rnd  *rand.Rand
	next int // number for new files
}

// shape says how much a dataset holds.
type shape struct {
	textFiles  int
	largeFiles int
	largeSize  int
}

func newDataset(dir string, seed uint64, sh shape) (*dataset, error) {
	d := &dataset{dir: dir, rnd: rand.New(rand.NewPCG(seed, 0xda7a))}
	for _, sub := range []string{"etc", "var/lib", "var/log/app"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	for range sh.textFiles {
		if err := d.addText(); err != nil {
			return nil, err
		}
	}
	for i := range sh.largeFiles {
		if err := os.WriteFile(filepath.Join(dir, "var/lib", fmt.Sprintf("blob%02d.bin", i)), d.random(sh.largeSize), 0o640); err != nil {
			return nil, err
		}
	}
	if err := os.Symlink("var/log/app", filepath.Join(dir, "logs")); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *dataset) random(n int) []byte {
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := d.rnd.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

var words = []string{"cairn ", "backup ", "volume ", "restore ", "chunk ", "pack\n", "index ", "node ", "fault ", "kill\t"}

func (d *dataset) text(n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[d.rnd.IntN(len(words))])
	}
	return b.Bytes()[:n]
}

func (d *dataset) addText() error {
	sub := []string{"etc", "var/lib", "var/log/app", ""}[d.rnd.IntN(4)]
	d.next++
	p := filepath.Join(d.dir, sub, fmt.Sprintf("file%04d.txt", d.next))
	return os.WriteFile(p, d.text(4<<10+d.rnd.IntN(60<<10)), 0o644)
}

// mutate changes the tree the way a live volume changes between backups:
// a few text files rewritten, one added, one removed, and a range of each
// large file overwritten with new data (a few MiB to store in all).
func (d *dataset) mutate() error {
	files, err := d.files()
	if err != nil {
		return err
	}
	for range 3 {
		p := files[d.rnd.IntN(len(files))]
		if filepath.Ext(p) == ".txt" {
			if err := os.WriteFile(p, d.text(4<<10+d.rnd.IntN(60<<10)), 0o644); err != nil {
				return err
			}
		}
	}
	if err := d.addText(); err != nil {
		return err
	}
	if p := files[d.rnd.IntN(len(files))]; filepath.Ext(p) == ".txt" {
		_ = os.Remove(p)
	}
	for _, p := range files {
		if filepath.Ext(p) == ".bin" {
			if err := d.overwrite(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// overwrite replaces 2 MiB somewhere in a large file.
func (d *dataset) overwrite(p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= 2<<20 {
		return err
	}
	_, err = f.WriteAt(d.random(2<<20), d.rnd.Int64N(fi.Size()-2<<20))
	return err
}

func (d *dataset) files() ([]string, error) {
	var out []string
	err := filepath.WalkDir(d.dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			out = append(out, p)
		}
		return err
	})
	slices.Sort(out)
	return out, err
}

// copyTree copies a dataset (regular files, directories, symlinks) to dst,
// to keep the state a snapshot was taken of.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case e.IsDir():
			return os.MkdirAll(to, 0o755)
		case e.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, to)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, fi.Mode().Perm())
	})
}

// compareTrees returns the relative paths where got differs from want:
// missing or extra entries, other types, modes, sizes or bytes.
func compareTrees(want, got string) ([]string, error) {
	w, err := scan(want)
	if err != nil {
		return nil, err
	}
	g, err := scan(got)
	if err != nil {
		return nil, err
	}
	var diff []string
	for rel, we := range w {
		ge, ok := g[rel]
		if !ok || ge.mode != we.mode || ge.size != we.size || ge.link != we.link {
			diff = append(diff, rel)
			continue
		}
		if we.mode.IsRegular() {
			a, err1 := os.ReadFile(filepath.Join(want, rel))
			b, err2 := os.ReadFile(filepath.Join(got, rel))
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			if !bytes.Equal(a, b) {
				diff = append(diff, rel)
			}
		}
	}
	for rel := range g {
		if _, ok := w[rel]; !ok {
			diff = append(diff, rel)
		}
	}
	slices.Sort(diff)
	return diff, nil
}

type entry struct {
	mode fs.FileMode
	size int64
	link string
}

func scan(dir string) (map[string]entry, error) {
	out := map[string]entry{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		en := entry{mode: fi.Mode()}
		if fi.Mode().IsRegular() {
			en.size = fi.Size()
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			en.link, _ = os.Readlink(p)
		}
		out[rel] = en
		return nil
	})
	return out, err
}

// treeBytes sums the sizes of the regular files under dir.
func treeBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
