// Command gendata writes the reproducible sample tree the demo backs up, and
// applies the demo's changes to it. The same seed gives the same bytes on
// every machine, so demo figures can be compared between runs.
//
//	gendata -out DIR [-seed N] [-files N] [-large BYTES]   generate a tree
//	gendata -change DIR [-seed N]                          modify 3, add 2, delete 1
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

func main() {
	out := flag.String("out", "", "generate a sample tree in this directory (must not exist)")
	change := flag.String("change", "", "apply the demo's changes to the tree in this directory")
	seed := flag.Uint64("seed", 1, "random seed")
	files := flag.Int("files", 300, "number of small files")
	large := flag.Int64("large", 64<<20, "size of the one large random file in bytes")
	flag.Parse()
	var err error
	switch {
	case *out != "" && *change == "":
		err = generate(*out, *seed, *files, *large)
	case *change != "" && *out == "":
		err = applyChanges(*change, *seed)
	default:
		err = errors.New("give exactly one of -out DIR or -change DIR")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

// dirs are the nested directories small files are spread over.
var dirs = []string{"", "docs", "docs/guides", "src", "src/pkg", "src/pkg/internal",
	"src/cmd", "data", "data/2025", "data/2025/q4", "logs", "config"}

func generate(root string, seed uint64, files int, large int64) error {
	if _, err := os.Lstat(root); err == nil {
		return fmt.Errorf("%s already exists", root)
	}
	r := rand.New(rand.NewPCG(seed, 0xca1))
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	for i := range files {
		if err := writeSmall(root, r, i); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(root, "data/volume.img"), randomBytes(r, int(large)), 0o600); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(root, "empty"), nil, 0o644); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(root, "src/cmd/run.sh"), []byte("#!/bin/sh\nexec ./server \"$@\"\n"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink("docs/guides", filepath.Join(root, "guides")); err != nil {
		return err
	}
	return os.Chmod(filepath.Join(root, "config"), 0o750)
}

// writeSmall writes file i: two thirds text-like (compressible, with
// shared vocabulary across files), one third random; 512 B to 256 KiB.
func writeSmall(root string, r *rand.Rand, i int) error {
	dir := dirs[i%len(dirs)]
	size := 512 + r.IntN(256<<10)
	var name string
	var data []byte
	mode := fs.FileMode(0o644)
	if i%3 == 2 {
		name, data = fmt.Sprintf("blob-%03d.bin", i), randomBytes(r, size)
		mode = 0o600
	} else {
		name, data = fmt.Sprintf("file-%03d.txt", i), textBytes(r, size)
	}
	return writeFile(filepath.Join(root, dir, name), data, mode)
}

func writeFile(path string, data []byte, mode fs.FileMode) error {
	if err := os.WriteFile(path, data, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode) // not subject to the umask
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b[:n]
}

var words = []string{"cluster", "volume", "snapshot", "backup", "restore", "node", "pod",
	"namespace", "chunk", "pack", "index", "the", "a", "of", "and", "to", "is", "in",
	"replica", "storage", "class", "claim", "bucket", "object", "latency", "throughput"}

func textBytes(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		for w := 4 + r.IntN(10); w > 0; w-- {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d.\n", r.IntN(100000))
	}
	return b.Bytes()[:n]
}

// applyChanges modifies three files (a 4 KiB patch in the middle of the
// large image, an appended line, a rewritten random file), adds two and
// deletes one, and prints what it did.
func applyChanges(root string, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 0xc4a))
	texts, bins, err := smallFiles(root)
	if err != nil {
		return err
	}
	if len(texts) < 2 || len(bins) < 2 {
		return fmt.Errorf("%s does not look like a gendata tree", root)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"modified data/volume.img (4 KiB at its middle)", func() error { return patchMiddle(filepath.Join(root, "data/volume.img"), randomBytes(r, 4096)) }},
		{"modified " + rel(root, texts[0]) + " (appended a line)", func() error { return appendTo(texts[0], []byte("one more line\n")) }},
		{"modified " + rel(root, bins[0]) + " (rewritten)", func() error { return writeFile(bins[0], randomBytes(r, 64<<10), 0o600) }},
		{"added docs/new-notes.txt", func() error { return writeFile(filepath.Join(root, "docs/new-notes.txt"), textBytes(r, 20<<10), 0o644) }},
		{"added data/new-blob.bin", func() error { return writeFile(filepath.Join(root, "data/new-blob.bin"), randomBytes(r, 1<<20), 0o600) }},
		{"deleted " + rel(root, texts[1]), func() error { return os.Remove(texts[1]) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return err
		}
		fmt.Println(s.what)
	}
	return nil
}

func smallFiles(root string) (texts, bins []string, err error) {
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.Type().IsRegular() && filepath.Ext(p) == ".txt":
			texts = append(texts, p)
		case d.Type().IsRegular() && filepath.Ext(p) == ".bin" && filepath.Base(p) != "new-blob.bin":
			bins = append(bins, p)
		}
		return nil
	})
	slices.Sort(texts)
	slices.Sort(bins)
	return texts, bins, err
}

func rel(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return r
}

func patchMiddle(path string, patch []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err == nil {
		_, err = f.WriteAt(patch, st.Size()/2)
	}
	return errors.Join(err, f.Close())
}

func appendTo(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}
