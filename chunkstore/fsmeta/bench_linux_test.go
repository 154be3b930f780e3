package fsmeta

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchFiles is the size of the directory the small-files path is measured
// on: large enough that the dentry cache, not the loop, sets the pace.
const benchFiles = 10_000

// BenchmarkLstatListXattrs measures the per-file metadata cost of a backup
// walk: Lstat plus ListXattrs for each of 10k files. The archiver's budget
// is 60k files/s overall (about 16µs a file for everything), so this part
// should take a small fraction of it. Each op is one file.
func BenchmarkLstatListXattrs(b *testing.B) {
	for _, withXattr := range []bool{false, true} {
		name := "no-xattrs"
		if withXattr {
			name = "one-xattr"
		}
		b.Run(name, func(b *testing.B) {
			paths := makeBenchDir(b, withXattr)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				path := paths[i%len(paths)]
				i++
				if _, err := Lstat(path); err != nil {
					b.Fatal(err)
				}
				xs, err := ListXattrs(path)
				if err != nil || (withXattr && len(xs) == 0) {
					b.Fatalf("ListXattrs(%s) = %v, %v", path, xs, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

func makeBenchDir(b *testing.B, withXattr bool) []string {
	b.Helper()
	dir := b.TempDir()
	paths := make([]string, benchFiles)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("f%05d", i))
		if err := os.WriteFile(paths[i], []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
		if withXattr {
			xs := []Xattr{{Name: "user.cairn.bench", Value: []byte("v")}}
			err := SetXattrs(paths[i], xs)
			if errors.Is(err, ErrXattrUnsupported) {
				b.Skipf("no user xattrs on %s: %v", dir, err)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	return paths
}
