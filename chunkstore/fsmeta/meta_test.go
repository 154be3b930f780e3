package fsmeta

import (
	"io/fs"
	"testing"
	"time"
)

func TestKindNamesRoundTrip(t *testing.T) {
	tests := []struct {
		kind Kind
		name string
	}{
		{KindFile, "file"},
		{KindDir, "dir"},
		{KindSymlink, "symlink"},
		{KindCharDev, "chardev"},
		{KindBlockDev, "blockdev"},
		{KindFIFO, "fifo"},
		{KindSocket, "socket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.kind.String(); got != tc.name {
				t.Errorf("String() = %q, want %q", got, tc.name)
			}
			got, err := ParseKind(tc.name)
			if err != nil || got != tc.kind {
				t.Errorf("ParseKind(%q) = %v, %v; want %v", tc.name, got, err, tc.kind)
			}
		})
	}
}

func TestParseKindRejects(t *testing.T) {
	for _, name := range []string{"", "File", "Kind(0)", "unknown", "link", "dir "} {
		if k, err := ParseKind(name); err == nil {
			t.Errorf("ParseKind(%q) = %v, want an error", name, k)
		}
	}
	if got := Kind(0).String(); got != "Kind(0)" {
		t.Errorf("zero Kind prints %q", got)
	}
	if got := Kind(200).String(); got != "Kind(200)" {
		t.Errorf("Kind(200) prints %q", got)
	}
}

func TestLinkKey(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
		ok   bool
	}{
		{"file with two links", Meta{Kind: KindFile, Nlink: 2, Dev: 7, Inode: 9}, true},
		{"single link", Meta{Kind: KindFile, Nlink: 1, Dev: 7, Inode: 9}, false},
		{"dir with subdirs", Meta{Kind: KindDir, Nlink: 5, Dev: 7, Inode: 9}, false},
		{"hard-linked symlink", Meta{Kind: KindSymlink, Nlink: 2, Dev: 7, Inode: 9}, true},
		{"hard-linked fifo", Meta{Kind: KindFIFO, Nlink: 3, Dev: 7, Inode: 9}, true},
		{"unfilled meta", Meta{Nlink: 2}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, ok := tc.meta.LinkKey()
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok && key != (LinkKey{Dev: 7, Inode: 9}) {
				t.Errorf("key = %+v", key)
			}
		})
	}
}

func TestMaybeSparse(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
		want bool
	}{
		{"dense", Meta{Kind: KindFile, Size: 4096, Blocks: 8}, false},
		{"tail fits block", Meta{Kind: KindFile, Size: 100, Blocks: 8}, false},
		{"holes", Meta{Kind: KindFile, Size: 1 << 20, Blocks: 8}, true},
		{"all hole", Meta{Kind: KindFile, Size: 1 << 20}, true},
		{"empty", Meta{Kind: KindFile}, false},
		{"dir", Meta{Kind: KindDir, Size: 4096}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.meta.MaybeSparse(); got != tc.want {
				t.Errorf("MaybeSparse() = %v, want %v", got, tc.want)
			}
		})
	}
}

// fakeInfo is a FileInfo without an OS stat record, as from an fstest.MapFS.
type fakeInfo struct {
	mode fs.FileMode
	size int64
	mod  time.Time
}

func (f fakeInfo) Name() string       { return "fake" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return f.mod }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

func TestFromFileInfoWithoutSys(t *testing.T) {
	mod := time.Unix(1700000000, 123456789)
	tests := []struct {
		name     string
		mode     fs.FileMode
		wantKind Kind
		wantMode uint32
	}{
		{"setuid file", 0o755 | fs.ModeSetuid, KindFile, 0o4755},
		{"sticky dir", 0o777 | fs.ModeDir | fs.ModeSticky, KindDir, 0o1777},
		{"setgid dir", 0o750 | fs.ModeDir | fs.ModeSetgid, KindDir, 0o2750},
		{"symlink", 0o777 | fs.ModeSymlink, KindSymlink, 0o777},
		{"char device", 0o666 | fs.ModeDevice | fs.ModeCharDevice, KindCharDev, 0o666},
		{"block device", 0o660 | fs.ModeDevice, KindBlockDev, 0o660},
		{"fifo", 0o644 | fs.ModeNamedPipe, KindFIFO, 0o644},
		{"socket", 0o755 | fs.ModeSocket, KindSocket, 0o755},
		{"irregular", fs.ModeIrregular, KindUnknown, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := FromFileInfo(fakeInfo{mode: tc.mode, size: 42, mod: mod})
			if ok {
				t.Fatal("ok = true for a FileInfo without a stat record")
			}
			want := Meta{Kind: tc.wantKind, Mode: tc.wantMode, Size: 42, MtimeNs: mod.UnixNano()}
			if m != want {
				t.Errorf("got %+v\nwant %+v", m, want)
			}
		})
	}
}
