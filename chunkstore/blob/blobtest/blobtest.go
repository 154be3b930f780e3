package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

// Run runs the whole contract against stores made by newStore. newStore must
// return an empty store and arrange its cleanup through t.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Ranges", testRanges},
		{"GetInto", testGetInto},
		{"ReadRange", testReadRange},
		{"Overwrite", testOverwrite},
		{"Stat", testStat},
		{"List", testList},
		{"ListEmpty", testListEmpty},
		{"ListCallbackError", testListCallbackError},
		{"Delete", testDelete},
		{"Missing", testMissing},
		{"ConcurrentPuts", testConcurrentPuts},
		{"Subdirectories", testSubdirectories},
		{"InvalidNames", testInvalidNames},
		{"BufferIsolation", testBufferIsolation},
		{"CanceledContext", testCanceledContext},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if s.Location() == "" {
				t.Error("Location() is empty")
			}
			tc.fn(t, s)
		})
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	objects := map[string][]byte{
		"small":       []byte("hello, cairn"),
		"empty":       {},
		"one-byte":    {0x42},
		"multi-mib":   randomBytes(5<<20+17, 1),
		"binary/zero": make([]byte, 4096),
	}
	for name, data := range objects {
		put(t, s, name, data)
	}
	for name, want := range objects {
		got := get(t, s, name, 0, -1)
		if !bytes.Equal(got, want) {
			t.Errorf("Get(%s) returned %d bytes that differ from the %d put", name, len(got), len(want))
		}
	}
}

func testRanges(t *testing.T, s blob.Store) {
	data := randomBytes(100_000, 2)
	size := int64(len(data))
	put(t, s, "obj", data)
	valid := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"whole", 0, -1, data},
		{"whole explicit", 0, size, data},
		{"middle", 1000, 5000, data[1000:6000]},
		{"first byte", 0, 1, data[:1]},
		{"last byte", size - 1, 1, data[size-1:]},
		{"to end", 70_000, -1, data[70_000:]},
		{"zero length middle", 500, 0, nil},
		{"zero length at end", size, 0, nil},
		{"rest from end", size, -1, nil},
	}
	for _, tc := range valid {
		got := get(t, s, "obj", tc.offset, tc.length)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s: Get(obj, %d, %d) = %d bytes, want %d", tc.name, tc.offset, tc.length, len(got), len(tc.want))
		}
	}
	invalid := []struct {
		name           string
		offset, length int64
	}{
		{"offset past end", size + 1, 1},
		{"offset past end to end", size + 10, -1},
		{"zero length past end", size + 1, 0},
		{"length past end", size - 10, 11},
		{"far past end", 1 << 40, 10},
	}
	for _, tc := range invalid {
		got, err := s.Get(t.Context(), "obj", tc.offset, tc.length)
		if !errors.Is(err, blob.ErrRange) {
			t.Errorf("%s: Get(obj, %d, %d) = %d bytes, %v; want ErrRange", tc.name, tc.offset, tc.length, len(got), err)
		}
	}
}

// testGetInto reads ranges through blob.GetInto with no buffer, a buffer too
// small and a large dirty one, which must give Get's bytes every time and,
// for a BufferGetter, land in the large buffer.
func testGetInto(t *testing.T, s blob.Store) {
	data := randomBytes(50_000, 3)
	put(t, s, "obj", data)
	_, reuses := s.(blob.BufferGetter)
	ranges := [][2]int64{{0, int64(len(data))}, {100, 4000}, {int64(len(data)) - 1, 1}, {10, 0}}
	for _, r := range ranges {
		want := data[r[0] : r[0]+r[1]]
		large := bytes.Repeat([]byte{0xff}, 60_000)
		for _, buf := range [][]byte{nil, make([]byte, 3), large} {
			got, err := blob.GetInto(t.Context(), s, "obj", r[0], r[1], buf)
			if err != nil {
				t.Fatalf("GetInto(obj, %d, %d) with a %d-byte buffer: %v", r[0], r[1], cap(buf), err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("GetInto(obj, %d, %d) with a %d-byte buffer = %d bytes that differ from Get's", r[0], r[1], cap(buf), len(got))
			}
			if reuses && len(buf) == len(large) && r[1] > 0 && &got[0] != &large[0] {
				t.Errorf("GetInto(obj, %d, %d) did not use the large buffer it was given", r[0], r[1])
			}
		}
	}
	if _, err := blob.GetInto(t.Context(), s, "obj", int64(len(data))-10, 11, make([]byte, 100)); !errors.Is(err, blob.ErrRange) {
		t.Errorf("GetInto past the end: %v, want ErrRange", err)
	}
}

// testReadRange reads ranges through blob.ReadRange, which maps them where
// the store can: the bytes must be Get's until released.
func testReadRange(t *testing.T, s blob.Store) {
	data := randomBytes(300_000, 4)
	put(t, s, "obj", data)
	size := int64(len(data))
	for _, r := range [][2]int64{{0, size}, {5000, 100_000}, {4096, 8192}, {size - 1, 1}, {77, 0}} {
		got, release, err := blob.ReadRange(t.Context(), s, "obj", r[0], r[1], make([]byte, 10))
		if err != nil {
			t.Fatalf("ReadRange(obj, %d, %d): %v", r[0], r[1], err)
		}
		if !bytes.Equal(got, data[r[0]:r[0]+r[1]]) {
			t.Fatalf("ReadRange(obj, %d, %d) = %d bytes that differ from Get's", r[0], r[1], len(got))
		}
		if release != nil {
			release()
		}
	}
	if _, _, err := blob.ReadRange(t.Context(), s, "obj", size-10, 11, nil); !errors.Is(err, blob.ErrRange) {
		t.Errorf("ReadRange past the end: %v, want ErrRange", err)
	}
	if _, _, err := blob.ReadRange(t.Context(), s, "missing", 0, 1, nil); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ReadRange of a missing object: %v, want ErrNotFound", err)
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	put(t, s, "obj", []byte("first version, longer"))
	put(t, s, "obj", []byte("second"))
	if got := get(t, s, "obj", 0, -1); string(got) != "second" {
		t.Errorf("after overwrite Get = %q, want %q", got, "second")
	}
	if info := stat(t, s, "obj"); info.Size != 6 {
		t.Errorf("after overwrite Stat size = %d, want 6", info.Size)
	}
	if names := listNames(t, s, ""); !slices.Equal(names, []string{"obj"}) {
		t.Errorf("after overwrite List = %q, want [obj]", names)
	}
}

func testStat(t *testing.T, s blob.Store) {
	put(t, s, "dir/obj", make([]byte, 12345))
	put(t, s, "dir/empty", nil)
	info := stat(t, s, "dir/obj")
	if info.Name != "dir/obj" || info.Size != 12345 || info.ModTime.IsZero() {
		t.Errorf("Stat(dir/obj) = %+v, want name dir/obj, size 12345, a mod time", info)
	}
	if info := stat(t, s, "dir/empty"); info.Size != 0 {
		t.Errorf("Stat(dir/empty) size = %d, want 0", info.Size)
	}
}

func testList(t *testing.T, s blob.Store) {
	names := []string{
		"config", "data/ab/ab01", "data/ab/ab02", "data/abc", "data/b0/b001",
		"index/0001", "snapshots/x/y/z",
	}
	for i, name := range names {
		put(t, s, name, bytes.Repeat([]byte{'x'}, i))
	}
	tests := []struct {
		name, prefix string
		want         []string
	}{
		{"everything", "", names},
		{"directory", "data/", []string{"data/ab/ab01", "data/ab/ab02", "data/abc", "data/b0/b001"}},
		{"partial element", "data/a", []string{"data/ab/ab01", "data/ab/ab02", "data/abc"}},
		{"exact directory", "data/ab/", []string{"data/ab/ab01", "data/ab/ab02"}},
		{"full name", "config", []string{"config"}},
		{"partial file name", "data/ab/ab0", []string{"data/ab/ab01", "data/ab/ab02"}},
		{"deep", "snapshots/x/", []string{"snapshots/x/y/z"}},
		{"no match", "nothing/", nil},
		{"no match partial", "data/c", nil},
	}
	for _, tc := range tests {
		got := listNames(t, s, tc.prefix)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: List(%q) = %q, want %q", tc.name, tc.prefix, got, tc.want)
		}
	}
	sizes := map[string]int64{}
	listFn(t, s, "", func(info blob.Info) { sizes[info.Name] = info.Size })
	for i, name := range names {
		if sizes[name] != int64(i) {
			t.Errorf("List reported size %d for %s, want %d", sizes[name], name, i)
		}
	}
}

func testListEmpty(t *testing.T, s blob.Store) {
	for _, prefix := range []string{"", "data/", "data/a"} {
		if got := listNames(t, s, prefix); len(got) != 0 {
			t.Errorf("List(%q) on an empty store = %q", prefix, got)
		}
	}
}

func testListCallbackError(t *testing.T, s blob.Store) {
	for i := range 5 {
		put(t, s, fmt.Sprintf("obj/%d", i), []byte{byte(i)})
	}
	stop := errors.New("stop here")
	calls := 0
	err := s.List(t.Context(), "", func(blob.Info) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("callback ran %d times after returning an error, want 1", calls)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	put(t, s, "a/obj", []byte("data"))
	put(t, s, "a/keep", []byte("data"))
	if err := s.Delete(t.Context(), "a/obj"); err != nil {
		t.Fatalf("Delete(a/obj): %v", err)
	}
	if _, err := s.Get(t.Context(), "a/obj", 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(t.Context(), "a/obj"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(t.Context(), "a/obj"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if got := listNames(t, s, ""); !slices.Equal(got, []string{"a/keep"}) {
		t.Errorf("List after Delete = %q, want [a/keep]", got)
	}
}

func testMissing(t *testing.T, s blob.Store) {
	put(t, s, "present/obj", []byte("x"))
	for _, name := range []string{"missing", "present/missing", "absent/dir/obj"} {
		if _, err := s.Get(t.Context(), name, 0, -1); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound", name, err)
		}
		if _, err := s.Get(t.Context(), name, 1, 2); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("ranged Get(%s) = %v, want ErrNotFound", name, err)
		}
		if _, err := s.Stat(t.Context(), name); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%s) = %v, want ErrNotFound", name, err)
		}
		if err := s.Delete(t.Context(), name); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Delete(%s) = %v, want ErrNotFound", name, err)
		}
	}
	// A directory that exists only because of a deeper object is not itself
	// an object, even on backends that store real directories.
	if _, err := s.Stat(t.Context(), "present"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(present) = %v, want ErrNotFound", err)
	}
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const workers, perWorker = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				name := fmt.Sprintf("data/%02d/%02d", w, i)
				if err := s.Put(t.Context(), name, content(name)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Put: %v", err)
	}
	names := listNames(t, s, "data/")
	if len(names) != workers*perWorker {
		t.Fatalf("List found %d objects after concurrent puts, want %d", len(names), workers*perWorker)
	}
	for _, name := range names {
		if got := get(t, s, name, 0, -1); !bytes.Equal(got, content(name)) {
			t.Errorf("Get(%s) = %q, want %q", name, got, content(name))
		}
	}
}

func testSubdirectories(t *testing.T, s blob.Store) {
	names := []string{"a/b/c/d/e/f", "a/b/x", "a/y", "z"}
	for _, name := range names {
		put(t, s, name, content(name))
	}
	for _, name := range names {
		if got := get(t, s, name, 0, -1); !bytes.Equal(got, content(name)) {
			t.Errorf("Get(%s) = %q", name, got)
		}
	}
	if got := listNames(t, s, "a/b/"); !slices.Equal(got, []string{"a/b/c/d/e/f", "a/b/x"}) {
		t.Errorf("List(a/b/) = %q", got)
	}
}

func testInvalidNames(t *testing.T, s blob.Store) {
	for _, name := range []string{"", "/abs", "../escape", "a/../b", "a//b", "a/./b", "dir/"} {
		if err := s.Put(t.Context(), name, []byte("x")); err == nil {
			t.Errorf("Put(%q) succeeded, want an invalid-name error", name)
		}
		if _, err := s.Get(t.Context(), name, 0, -1); err == nil {
			t.Errorf("Get(%q) succeeded, want an invalid-name error", name)
		}
	}
	if got := listNames(t, s, ""); len(got) != 0 {
		t.Errorf("invalid names left objects behind: %q", got)
	}
}

func testBufferIsolation(t *testing.T, s blob.Store) {
	data := []byte("original")
	put(t, s, "obj", data)
	copy(data, "CHANGED!")
	got := get(t, s, "obj", 0, -1)
	if string(got) != "original" {
		t.Fatalf("changing the Put buffer changed the object: %q", got)
	}
	copy(got, "CHANGED!")
	if again := get(t, s, "obj", 0, -1); string(again) != "original" {
		t.Fatalf("changing a Get result changed the object: %q", again)
	}
}

func testCanceledContext(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Put(ctx, "obj", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context = %v, want context.Canceled", err)
	}
	if names := listNames(t, s, ""); len(names) != 0 {
		t.Errorf("Put with a canceled context stored %q", names)
	}
}

func put(t *testing.T, s blob.Store, name string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), name, data); err != nil {
		t.Fatalf("Put(%s, %d bytes): %v", name, len(data), err)
	}
}

func get(t *testing.T, s blob.Store, name string, offset, length int64) []byte {
	t.Helper()
	data, err := s.Get(t.Context(), name, offset, length)
	if err != nil {
		t.Fatalf("Get(%s, %d, %d): %v", name, offset, length, err)
	}
	return data
}

func stat(t *testing.T, s blob.Store, name string) blob.Info {
	t.Helper()
	info, err := s.Stat(t.Context(), name)
	if err != nil {
		t.Fatalf("Stat(%s): %v", name, err)
	}
	return info
}

func listFn(t *testing.T, s blob.Store, prefix string, fn func(blob.Info)) {
	t.Helper()
	err := s.List(t.Context(), prefix, func(info blob.Info) error {
		fn(info)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
}

// listNames returns the sorted names under prefix, failing the test on a
// duplicate since the contract lists each object once.
func listNames(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var names []string
	listFn(t, s, prefix, func(info blob.Info) { names = append(names, info.Name) })
	slices.Sort(names)
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("List(%q) reported a name twice: %q", prefix, names)
	}
	return names
}

func content(name string) []byte { return []byte("content of " + name) }

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
