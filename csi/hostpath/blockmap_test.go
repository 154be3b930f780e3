package hostpath

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// mapOf builds a block map whose allocated blocks carry the given marks
// (0 = unallocated).
func mapOf(blockSize, capacity int64, marks ...byte) *blockMap {
	m := &blockMap{blockSize: blockSize, capacity: capacity, hashes: make([]byte, len(marks)*hashSize)}
	for i, b := range marks {
		if b != 0 {
			m.hashes[i*hashSize] = b
		}
	}
	return m
}

func TestMergedRanges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		m     *blockMap
		start int64
		want  []extent
	}{
		{"empty", mapOf(4096, 4*4096, 0, 0, 0, 0), 0, nil},
		{"neighbours merge", mapOf(4096, 4*4096, 1, 1, 0, 1), 0, []extent{{0, 8192}, {12288, 4096}}},
		{"short last block is clipped", mapOf(4096, 3*4096+100, 0, 0, 0, 1), 0, []extent{{12288, 100}}},
		{"start inside a range trims it", mapOf(4096, 4*4096, 1, 1, 0, 1), 5000, []extent{{5000, 3192}, {12288, 4096}}},
		{"start at a range's end skips it", mapOf(4096, 4*4096, 1, 1, 0, 1), 8192, []extent{{12288, 4096}}},
		{"start at the capacity", mapOf(4096, 4*4096, 1, 1, 1, 1), 4 * 4096, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mergedRanges(tc.m, tc.start, tc.m.allocated)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestBlockMapRoundTripAndCorruption(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1<<20 + 512) // a short last block
	f.WriteAt([]byte("data"), 70000)
	f.WriteAt(make([]byte, 8192), 200000) // allocated zeros stay unallocated
	f.WriteAt([]byte("tail"), 1<<20+500)
	f.Close()
	m, err := computeBlockMap(context.Background(), img, 65536)
	if err != nil {
		t.Fatal(err)
	}
	if m.blocks() != 17 || m.capacity != 1<<20+512 {
		t.Fatalf("%d blocks for %d bytes", m.blocks(), m.capacity)
	}
	var alloc []int64
	for i := int64(0); i < m.blocks(); i++ {
		if m.allocated(i) {
			alloc = append(alloc, i)
		}
	}
	if len(alloc) != 2 || alloc[0] != 1 || alloc[1] != 16 {
		t.Fatalf("allocated blocks %v, want [1 16]", alloc)
	}
	b := m.marshal()
	back, err := parseBlockMap(b)
	if err != nil || back.blockSize != m.blockSize || back.capacity != m.capacity || !bytes.Equal(back.hashes, m.hashes) {
		t.Fatalf("round trip: %v", err)
	}
	for name, bad := range map[string][]byte{
		"flipped entry bit": flip(b, blockMapHeader+5),
		"flipped header":    flip(b, 9),
		"truncated":         b[:len(b)-1],
		"empty":             nil,
	} {
		if _, err := parseBlockMap(bad); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

func FuzzParseBlockMap(f *testing.F) {
	f.Add(mapOf(4096, 3*4096, 1, 0, 1).marshal())
	f.Add(mapOf(65536, 0).marshal())
	f.Add([]byte(blockMapMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseBlockMap(b)
		if err != nil {
			return
		}
		if int64(len(m.hashes)) != m.blocks()*hashSize || (m.capacity+m.blockSize-1)/m.blockSize != m.blocks() {
			t.Fatalf("inconsistent map: %d blocks, capacity %d, block size %d", m.blocks(), m.capacity, m.blockSize)
		}
		if !bytes.Equal(m.marshal(), b) {
			t.Fatal("re-marshal differs")
		}
		mergedRanges(m, 0, m.allocated)
	})
}
