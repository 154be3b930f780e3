package index

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
)

func fill(b byte) core.ID {
	var id core.ID
	for i := range id {
		id[i] = b
	}
	return id
}

func counting() core.ID {
	var id core.ID
	for i := range id {
		id[i] = byte(i)
	}
	return id
}

// goldenFile exercises every field: a superseded file, two packs, both
// blob types, and lengths and offsets at their limits.
func goldenFile() *File {
	return &File{
		Supersedes: []core.ID{fill(0x11)},
		Packs: []PackEntry{
			{ID: fill(0xaa), Blobs: []Blob{
				{ID: fill(0x01), Type: core.DataBlob, Offset: 0, Length: 0x100, RawLength: 0x200},
				{ID: fill(0x02), Type: core.TreeBlob, Offset: 0x100, Length: 0x10, RawLength: 0x30},
			}},
			{ID: fill(0xbb), Blobs: []Blob{
				{ID: counting(), Type: core.DataBlob, Offset: 0x01020304, Length: MaxBlobSize, RawLength: 0},
			}},
		},
	}
}

// goldenHex is goldenFile encoded, written out by hand from the format
// description so that the test does not trust the encoder.
var goldenHex = strings.Join([]string{
	hex.EncodeToString([]byte("CAIRNIDX")), "01", // magic, version
	"01000000", strings.Repeat("11", 32), // one superseded file
	"02000000",                           // two packs
	strings.Repeat("aa", 32), "02000000", // pack aa.., two blobs
	"01", strings.Repeat("01", 32), "00000000", "00010000", "00020000",
	"02", strings.Repeat("02", 32), "00010000", "10000000", "30000000",
	strings.Repeat("bb", 32), "01000000", // pack bb.., one blob
	"01", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "04030201", "ffffff00", "00000000",
}, "")

func goldenBytes(t testing.TB) []byte {
	b, err := hex.DecodeString(goldenHex)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileGolden(t *testing.T) {
	want := goldenBytes(t)
	got, err := EncodeFile(goldenFile())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("index file format changed: this needs a new version and a FORMAT.md update\ngot  %x\nwant %x", got, want)
	}
	if n := goldenFile().EncodedSize(); n != len(want) {
		t.Fatalf("EncodedSize = %d, want %d", n, len(want))
	}
	f, err := DecodeFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, goldenFile()) {
		t.Fatalf("DecodeFile = %+v, want %+v", f, goldenFile())
	}
}

func TestFileRoundTrip(t *testing.T) {
	r := newRand(3)
	tests := []struct {
		name string
		file *File
	}{
		{"empty", &File{}},
		{"only superseded", &File{Supersedes: []core.ID{randID(r), randID(r)}}},
		{"pack without blobs", &File{Packs: []PackEntry{{ID: randID(r)}}}},
		{"many packs", &File{Packs: []PackEntry{{ID: randID(r), Blobs: randPack(r, 16)}, {ID: randID(r), Blobs: randPack(r, 3)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := DecodeFile(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f, tt.file) {
				t.Fatalf("round trip = %+v, want %+v", f, tt.file)
			}
		})
	}
}

// Offsets into the golden file, for the corruption cases.
const (
	gVersion    = 8
	gNSuper     = 9
	gNPacks     = 13 + 32
	gNBlobs     = gNPacks + 4 + 32
	gBlobType   = gNBlobs + 4
	gBlobOffset = gBlobType + 1 + 32
	gBlobLength = gBlobOffset + 4
	gBlobRaw    = gBlobLength + 4
)

func TestDecodeFileErrors(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name   string
		edit   func(b []byte) []byte
		target error
		text   string // in the message
	}{
		{"empty", func([]byte) []byte { return nil }, ErrTruncated, "truncated index file: header at offset 0 needs 9 bytes, 0 remain"},
		{"short header", func(b []byte) []byte { return b[:5] }, ErrTruncated, "needs 9 bytes"},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, ErrCorrupt, "bad magic"},
		{"version zero", func(b []byte) []byte { b[gVersion] = 0; return b }, ErrUnsupportedVersion, "version 0"},
		{"newer version", func(b []byte) []byte { b[gVersion] = 2; return b }, ErrUnsupportedVersion, "written by a newer cairn"},
		{"no superseded count", func(b []byte) []byte { return b[:gNSuper+2] }, ErrTruncated, "superseded count at offset 9 needs 4 bytes, 2 remain"},
		{"huge superseded count", func(b []byte) []byte { le.PutUint32(b[gNSuper:], math.MaxUint32); return b }, ErrTruncated, "needs 137438953440 bytes"},
		{"no pack count", func(b []byte) []byte { return b[:gNPacks] }, ErrTruncated, "pack count"},
		{"huge pack count", func(b []byte) []byte { le.PutUint32(b[gNPacks:], math.MaxUint32); return b }, ErrTruncated, "4294967295 packs"},
		{"huge blob count", func(b []byte) []byte { le.PutUint32(b[gNBlobs:], 1<<30); return b }, ErrTruncated, "1073741824 blobs"},
		{"pack missing", func(b []byte) []byte { le.PutUint32(b[gNPacks:], 3); return b }, ErrTruncated, "pack 2 header"},
		{"cut in a blob", func(b []byte) []byte { return b[:len(b)-1] }, ErrTruncated, "needs 45 bytes, 44 remain"},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, ErrCorrupt, "1 trailing bytes"},
		{"type zero", func(b []byte) []byte { b[gBlobType] = 0; return b }, ErrInvalidEntry, "unknown blob type 0"},
		{"type three", func(b []byte) []byte { b[gBlobType] = 3; return b }, ErrCorrupt, "unknown blob type 3"},
		{"zero length", func(b []byte) []byte { le.PutUint32(b[gBlobLength:], 0); return b }, ErrInvalidEntry, "stored length is 0"},
		{"length over limit", func(b []byte) []byte { le.PutUint32(b[gBlobLength:], MaxBlobSize+1); return b }, ErrInvalidEntry, "stored length 16777216 exceeds"},
		{"raw length over limit", func(b []byte) []byte { le.PutUint32(b[gBlobRaw:], math.MaxUint32); return b }, ErrInvalidEntry, "raw length"},
		{"offset overflow", func(b []byte) []byte { le.PutUint32(b[gBlobOffset:], math.MaxUint32-5); return b }, ErrInvalidEntry, "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := DecodeFile(tt.edit(goldenBytes(t)))
			if err == nil || f != nil {
				t.Fatalf("DecodeFile = %+v, %v; want an error", f, err)
			}
			if !errors.Is(err, tt.target) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error %q: want %v containing %q", err, tt.target, tt.text)
			}
		})
	}
}

func TestEncodeFileRejectsInvalid(t *testing.T) {
	f := goldenFile()
	f.Packs[1].Blobs[0].Type = 9
	if _, err := EncodeFile(f); !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("EncodeFile error = %v, want ErrInvalidEntry", err)
	}
}

func TestAddFile(t *testing.T) {
	ix := New()
	if err := ix.AddFile(goldenFile()); err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 3 || ix.PackCount() != 2 {
		t.Fatalf("Len %d PackCount %d", ix.Len(), ix.PackCount())
	}
	if loc, ok := ix.Lookup(counting()); !ok || loc.Pack != fill(0xbb) || loc.Length != MaxBlobSize {
		t.Fatalf("Lookup = %+v, %v", loc, ok)
	}

	bad := goldenFile()
	bad.Packs = append(bad.Packs, PackEntry{ID: fill(0xcc), Blobs: []Blob{{ID: fill(3), Type: core.DataBlob}}})
	empty := New()
	if err := empty.AddFile(bad); !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("AddFile error = %v, want ErrInvalidEntry", err)
	}
	if empty.Len() != 0 || empty.PackCount() != 0 {
		t.Fatal("AddFile added part of an invalid file")
	}
}

// TestIndexToFile writes an index out the way prune does and reads it back.
func TestIndexToFile(t *testing.T) {
	ix := New()
	r := newRand(4)
	for range 50 {
		mustAdd(t, ix, randID(r), randPack(r, 16)...)
	}
	f := &File{}
	ix.EachPack(func(pack core.ID, blobs []Blob) bool {
		f.Packs = append(f.Packs, PackEntry{ID: pack, Blobs: append([]Blob(nil), blobs...)})
		return true
	})
	b, err := EncodeFile(f)
	if err != nil {
		t.Fatal(err)
	}
	g, err := DecodeFile(b)
	if err != nil {
		t.Fatal(err)
	}
	back := New()
	if err := back.AddFile(g); err != nil {
		t.Fatal(err)
	}
	if back.Len() != ix.Len() || back.PackCount() != ix.PackCount() {
		t.Fatalf("reloaded index: Len %d PackCount %d, want %d %d", back.Len(), back.PackCount(), ix.Len(), ix.PackCount())
	}
	for id, loc := range ix.Each {
		if got, ok := back.Lookup(id); !ok || got != loc {
			t.Fatalf("reloaded Lookup(%s) = %+v, want %+v", id.Short(), got, loc)
		}
	}
}
