package harness

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// maxProblems bounds how many differences an error lists.
const maxProblems = 10

type entry struct {
	typ  fs.FileMode
	size int64
}

// compareTrees checks that got holds exactly the entries of want, with the
// same types, and that every regular file has the same bytes. Metadata
// (modes, times, owners) is not compared: the tools differ in what they
// restore, and the benchmark is about data.
func compareTrees(want, got string) error {
	we, err := listTree(want)
	if err != nil {
		return fmt.Errorf("list source: %w", err)
	}
	ge, err := listTree(got)
	if err != nil {
		return fmt.Errorf("list restore: %w", err)
	}
	var problems []string
	for _, rel := range sortedKeys(we) {
		w := we[rel]
		g, ok := ge[rel]
		switch {
		case !ok:
			problems = append(problems, "missing: "+rel)
		case g.typ != w.typ:
			problems = append(problems, fmt.Sprintf("%s: type %v, want %v", rel, g.typ, w.typ))
		case w.typ.IsRegular():
			if err := compareFiles(filepath.Join(want, rel), filepath.Join(got, rel)); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", rel, err))
			}
		}
		if len(problems) >= maxProblems {
			break
		}
	}
	for _, rel := range sortedKeys(ge) {
		if _, ok := we[rel]; !ok && len(problems) < maxProblems {
			problems = append(problems, "unexpected: "+rel)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s differs from %s:\n  %s", got, want, strings.Join(problems, "\n  "))
	}
	return nil
}

func listTree(root string) (map[string]entry, error) {
	out := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[rel] = entry{typ: info.Mode().Type(), size: info.Size()}
		return nil
	})
	return out, err
}

func sortedKeys(m map[string]entry) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// compareFiles compares two files byte for byte and names the first
// differing offset.
func compareFiles(want, got string) error {
	wf, err := os.Open(want)
	if err != nil {
		return err
	}
	defer wf.Close()
	gf, err := os.Open(got)
	if err != nil {
		return err
	}
	defer gf.Close()
	const bufSize = 1 << 20
	wb, gb := make([]byte, bufSize), make([]byte, bufSize)
	var off int64
	for {
		wn, werr := io.ReadFull(wf, wb)
		gn, gerr := io.ReadFull(gf, gb)
		if !bytes.Equal(wb[:wn], gb[:gn]) {
			return fmt.Errorf("content differs at or after offset %d", off+firstDiff(wb[:wn], gb[:gn]))
		}
		off += int64(wn)
		wdone, gdone := isEOF(werr), isEOF(gerr)
		if werr != nil && !wdone {
			return werr
		}
		if gerr != nil && !gdone {
			return gerr
		}
		if wdone || gdone {
			if wdone != gdone {
				return fmt.Errorf("length differs after offset %d", off)
			}
			return nil
		}
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func firstDiff(a, b []byte) int64 {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return int64(i)
		}
	}
	return int64(n)
}
