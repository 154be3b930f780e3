package index

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzDecodeFile from fuzzSeeds")

// FuzzDecodeFile checks that DecodeFile never panics, and that whatever it
// accepts encodes back to the same bytes (the format has exactly one
// encoding per file) and loads into an index.
func FuzzDecodeFile(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := DecodeFile(b)
		if err != nil {
			if file != nil {
				t.Fatal("DecodeFile returned a file with an error")
			}
			return
		}
		out, err := EncodeFile(file)
		if err != nil {
			t.Fatalf("decoded file does not encode: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("Encode(Decode(x)) != x\nx   %x\ngot %x", b, out)
		}
		if err := New().AddFile(file); err != nil {
			t.Fatalf("decoded file does not load: %v", err)
		}
	})
}

// fuzzSeeds are the checked-in seed corpus: valid files, and the ways files
// go wrong. TestFuzzSeeds keeps testdata in step with this list.
func fuzzSeeds(t *testing.T) map[string][]byte {
	golden := goldenBytes(t)
	empty, err := EncodeFile(&File{})
	if err != nil {
		t.Fatal(err)
	}
	one, err := EncodeFile(&File{Packs: []PackEntry{{ID: fill(0x5a), Blobs: []Blob{dataBlob(fill(0x7e), 0, 42)}}}})
	if err != nil {
		t.Fatal(err)
	}
	hugeCount := bytes.Clone(golden)
	binary.LittleEndian.PutUint32(hugeCount[gNPacks:], math.MaxUint32)
	newer := bytes.Clone(golden)
	newer[gVersion] = 2
	return map[string][]byte{
		"valid-golden":    golden,
		"valid-empty":     empty,
		"valid-one-blob":  one,
		"truncated-blob":  golden[:len(golden)-3],
		"truncated-magic": golden[:4],
		"bad-magic":       append([]byte("CAIRNIDY"), golden[8:]...),
		"newer-version":   newer,
		"huge-pack-count": hugeCount,
		"trailing-bytes":  append(bytes.Clone(one), 0, 0),
	}
}

func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeFile")
	for name, b := range fuzzSeeds(t) {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		path := filepath.Join(dir, name)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("seed %s is missing or stale (err %v); run go test -run TestFuzzSeeds -update-seeds", name, err)
		}
	}
}
