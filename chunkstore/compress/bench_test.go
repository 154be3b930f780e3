package compress

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// benchInputs are 1 MiB, about the average chunk size.
var benchInputs = []struct {
	name string
	src  []byte
}{
	{"random", randomBytes(1<<20, 1)},
	{"text", textBytes(1<<20, 2)},
	{"base64", base64Bytes(1<<20, 3)},
}

// BenchmarkDecision measures Compress at the Fastest level, decision
// included: on random data this is the cost of the sample check alone.
func BenchmarkDecision(b *testing.B) {
	c := mustNew(b, Fastest)
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			dst := make([]byte, 0, len(in.src))
			b.SetBytes(int64(len(in.src)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = c.Compress(dst[:0], in.src)
			}
		})
	}
}

// BenchmarkSample measures the probe on its own.
func BenchmarkSample(b *testing.B) {
	c := mustNew(b, Fastest)
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.src)))
			b.ReportAllocs()
			for b.Loop() {
				c.sampleCompresses(in.src)
			}
		})
	}
}

func BenchmarkCompress(b *testing.B) {
	for _, l := range levels[1:] {
		c := mustNew(b, l)
		for _, in := range benchInputs[1:] {
			b.Run(fmt.Sprintf("%s/%s", l, in.name), func(b *testing.B) {
				dst := make([]byte, 0, len(in.src))
				b.SetBytes(int64(len(in.src)))
				b.ReportAllocs()
				var out []byte
				for b.Loop() {
					out, _ = c.Compress(dst[:0], in.src)
				}
				b.ReportMetric(float64(len(out))/float64(len(in.src)), "ratio")
			})
		}
	}
}

func BenchmarkDecompress(b *testing.B) {
	for _, l := range levels[1:] {
		c := mustNew(b, l)
		for _, in := range benchInputs[1:] {
			frame, ok := c.Compress(nil, in.src)
			if !ok {
				b.Fatal("input not compressed")
			}
			b.Run(fmt.Sprintf("%s/%s", l, in.name), func(b *testing.B) {
				dst := make([]byte, 0, len(in.src))
				b.SetBytes(int64(len(in.src)))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if dst, err = Decompress(dst[:0], frame, len(in.src)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// smallBlobsDirEnv names a directory whose regular files under 512 KiB
// BenchmarkSmallBlobs compresses instead of net/http's Go files: point it
// at a bench dataset (bench/scratch/data/files or .../source after a
// make bench) to measure grouping on that tree.
const smallBlobsDirEnv = "CAIRN_BENCH_SMALLBLOBS_DIR"

// sourceFiles reads the files BenchmarkSmallBlobs compresses: those of
// $CAIRN_BENCH_SMALLBLOBS_DIR in walk order, or else the Go files of one
// directory of the Go distribution, real small files as a source tree
// holds them.
func sourceFiles(b *testing.B) [][]byte {
	if dir := os.Getenv(smallBlobsDirEnv); dir != "" {
		return treeFiles(b, dir)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Fatalf("go env GOROOT: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(goroot)), "src", "net", "http")
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(paths) < 10 {
		b.Fatalf("Go sources in %s: %d files, %v", dir, len(paths), err)
	}
	var files [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
	}
	return files
}

// treeFiles reads the non-empty regular files under 512 KiB below dir, in
// lexical walk order, as a backup meets them.
func treeFiles(b *testing.B, dir string) [][]byte {
	var files [][]byte
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && len(data) > 0 && len(data) < 512<<10 {
			files = append(files, data)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		b.Fatalf("%s=%s: %d files, %v", smallBlobsDirEnv, dir, len(files), err)
	}
	return files
}

// BenchmarkSmallBlobs compresses small files one blob each, as a backup
// of a source tree does, and as groups of 64, 128 and 256 KiB of them,
// the grouped alternative a future format could take.
func BenchmarkSmallBlobs(b *testing.B) {
	files := sourceFiles(b)
	var total int
	for _, f := range files {
		total += len(f)
	}
	c := mustNew(b, Fastest)
	run := func(b *testing.B, blobs [][]byte) {
		dst := make([]byte, 0, 1<<20)
		b.SetBytes(int64(total))
		var stored int
		for b.Loop() {
			stored = 0
			for _, blob := range blobs {
				out, _ := c.Compress(dst[:0], blob)
				stored += len(out)
			}
		}
		b.ReportMetric(float64(total)/float64(stored), "ratio")
	}
	b.Run("per-file", func(b *testing.B) { run(b, files) })
	for _, size := range []int{64 << 10, 128 << 10, 256 << 10} {
		b.Run(fmt.Sprintf("groups-%dKiB", size>>10), func(b *testing.B) { run(b, groupFiles(files, size)) })
	}
}

// groupFiles concatenates consecutive files into groups of at most size
// bytes (a larger file is a group of its own).
func groupFiles(files [][]byte, size int) [][]byte {
	var groups [][]byte
	var group []byte
	for _, f := range files {
		if len(group) > 0 && len(group)+len(f) > size {
			groups = append(groups, group)
			group = nil
		}
		group = append(group, f...)
	}
	if len(group) > 0 {
		groups = append(groups, group)
	}
	return groups
}
