package pack

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
)

func testKey() *crypto.Key {
	var k crypto.Key
	for i := range k {
		k[i] = byte(i)
	}
	return &k
}

func build(t testing.TB, key *crypto.Key, n int) Finished {
	w := NewWriter(make([]byte, 0, 64<<10))
	for i := range n {
		plain := bytes.Repeat([]byte{byte(i)}, 100+i)
		room := w.Reserve(core.BlobType(1+i%2), core.ID{byte(i), 1}, len(plain)+crypto.Overhead, len(plain))
		if room == nil {
			t.Fatalf("no room for blob %d", i)
		}
		key.Seal(room, plain)
	}
	return w.Finish(key)
}

func TestReserveNeverGrows(t *testing.T) {
	buf := make([]byte, 0, 100)
	w := NewWriter(buf)
	if room := w.Reserve(1, core.ID{1}, 60, 10); room == nil || cap(room) != 60 {
		t.Fatalf("first reserve: room of capacity %d, want 60", cap(room))
	}
	if room := w.Reserve(1, core.ID{2}, 41, 10); room != nil {
		t.Fatal("reserve past the buffer's capacity gave room: the buffer would have to grow under concurrent sealers")
	}
	if w.Count() != 1 || w.Size() != 60 {
		t.Fatalf("after a refused reserve: %d blobs, %d bytes; want 1, 60", w.Count(), w.Size())
	}
}

func TestRoundTrip(t *testing.T) {
	key := testKey()
	f := build(t, key, 5)
	if id, err := HeaderID(f.Data, int64(len(f.Data))); err != nil || id != f.ID {
		t.Fatalf("pack ID is not the hash of its sealed header and length: %v", err)
	}
	if id, err := HeaderID(f.Data[len(f.Data)-400:], int64(len(f.Data))); err != nil || id != f.ID {
		t.Fatalf("pack ID from the pack's tail alone: %v", err)
	}
	if _, err := HeaderID(f.Data[len(f.Data)-10:], int64(len(f.Data))); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("HeaderID of a tail too short for the header: %v, want ErrCorrupt", err)
	}
	blobs, err := ParseHeader(key, f.Data, int64(len(f.Data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs) != 5 {
		t.Fatalf("%d blobs", len(blobs))
	}
	for i, b := range blobs {
		if b != f.Blobs[i] {
			t.Fatalf("blob %d: %+v, want %+v", i, b, f.Blobs[i])
		}
		plain, err := key.Open(nil, f.Data[b.Offset:b.Offset+b.Length])
		if err != nil || len(plain) != int(b.RawLength) {
			t.Fatalf("blob %d does not open: %v", i, err)
		}
	}
}

func TestCorruptPacks(t *testing.T) {
	key := testKey()
	good := build(t, key, 3).Data
	cases := []struct {
		name   string
		mangle func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-10] }},
		{"empty", func(b []byte) []byte { return nil }},
		{"flipped header byte", func(b []byte) []byte { b[len(b)-20] ^= 1; return b }},
		{"huge length", func(b []byte) []byte { b[len(b)-1] = 0xff; return b }},
		{"prefix removed", func(b []byte) []byte { return b[7:] }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mangle(bytes.Clone(good))
			if _, err := ParseHeader(key, b, int64(len(b))); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
	if _, err := ParseHeader(&crypto.Key{9}, good, int64(len(good))); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong key: %v", err)
	}
}

// FuzzDecodeHeader feeds arbitrary plaintext headers to the parser, which
// runs after decryption and must never panic or accept entries that do not
// tile the blob area.
func FuzzDecodeHeader(f *testing.F) {
	key := testKey()
	p := build(f, key, 3)
	hlen, _ := HeaderLength(p.Data, int64(len(p.Data)))
	plain, _ := key.Open(nil, p.Data[len(p.Data)-TailSize-hlen:len(p.Data)-TailSize])
	blobArea := int64(len(p.Data) - TailSize - hlen)
	f.Add(plain, blobArea)
	f.Add(plain[:20], blobArea)
	f.Add([]byte("CAIRNPAK\x01\x00\x00\x00\x00"), int64(0))
	f.Add([]byte("CAIRNPAK\x02\x00\x00\x00\x00"), int64(0))
	f.Fuzz(func(t *testing.T, b []byte, area int64) {
		blobs, err := decodeHeader(b, area)
		if err != nil {
			return
		}
		var sum int64
		for _, bl := range blobs {
			if int64(bl.Offset) != sum || !bl.Type.Valid() {
				t.Fatalf("accepted a bad entry %+v", bl)
			}
			sum += int64(bl.Length)
		}
		if sum != area {
			t.Fatalf("entries cover %d of %d bytes", sum, area)
		}
	})
}
