package compress

import (
	"fmt"
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

// sourceFiles reads the Go files of one directory of the Go distribution:
// real small files, as a source tree holds them.
func sourceFiles(b *testing.B) [][]byte {
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

// BenchmarkSmallBlobs compresses real source files one blob each, as a
// backup of a source tree does, and as 256 KiB groups of them, the
// grouped alternative a future format could take.
func BenchmarkSmallBlobs(b *testing.B) {
	files := sourceFiles(b)
	var total int
	var all []byte
	for _, f := range files {
		total += len(f)
		all = append(all, f...)
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
	var groups [][]byte
	for off := 0; off < len(all); off += 256 << 10 {
		groups = append(groups, all[off:min(off+256<<10, len(all))])
	}
	b.Run("groups-256KiB", func(b *testing.B) { run(b, groups) })
}
