package fsmeta

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// requireXattrs skips only after proving the filesystem refuses the
// namespace: setxattr on a probe file must answer ENOTSUP.
func requireXattrs(t *testing.T, fsys testFS, name string) {
	t.Helper()
	probe := fsys.path("xattr-probe")
	writeFile(t, probe, nil)
	defer os.Remove(probe)
	err := unix.Lsetxattr(probe, name, []byte("x"), 0)
	if errors.Is(err, unix.ENOTSUP) {
		skipUnlessCI(t, "%s does not store %s xattrs: setxattr on a probe file returned %v", fsys.fstype, name, err)
	}
	if err != nil {
		t.Fatalf("probe setxattr %s on %s: %v", name, fsys.fstype, err)
	}
}

func TestXattrRoundTrip(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys testFS) {
		requireXattrs(t, fsys, "user.cairn.probe")
		want := []Xattr{
			{Name: "user.cairn.empty", Value: nil},
			// Larger than the first read buffer: exercises ERANGE growth.
			{Name: "user.cairn.big", Value: bytes.Repeat([]byte{0, 1, 0xff}, 500)},
			{Name: "user.cairn.binary", Value: []byte{0, 0, 0}},
		}
		// Enough names that the list outgrows the first buffer too.
		for i := range 28 {
			name := fmt.Sprintf("user.cairn.n%02d.%s", i, strings.Repeat("x", 24))
			want = append(want, Xattr{Name: name, Value: []byte{byte(i)}})
		}
		path := fsys.path("file")
		writeFile(t, path, []byte("content"))
		mustDo(t, SetXattrs(path, want))

		got, err := ListXattrs(path)
		mustDo(t, err)
		if !slices.IsSortedFunc(got, func(a, b Xattr) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("not sorted by name: %v", names(got))
		}
		got = slices.DeleteFunc(got, func(x Xattr) bool { return !strings.HasPrefix(x.Name, "user.cairn.") })
		slices.SortFunc(want, func(a, b Xattr) int { return strings.Compare(a.Name, b.Name) })
		if !xattrsEqual(got, want) {
			t.Errorf("round trip:\ngot  %v\nwant %v", names(got), names(want))
		}
	})
}

func TestListXattrsNoneIsOneSyscall(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys testFS) {
		path := fsys.path("plain")
		writeFile(t, path, []byte("x"))
		var lists, gets int
		counting := xattrSys{
			list: func(p string, b []byte) (int, error) { lists++; return unix.Llistxattr(p, b) },
			get:  func(p, n string, b []byte) (int, error) { gets++; return unix.Lgetxattr(p, n, b) },
		}
		xs, err := counting.listAll(path)
		if err != nil || xs != nil {
			t.Fatalf("ListXattrs = %v, %v; want nil, nil", names(xs), err)
		}
		if lists != 1 || gets != 0 {
			t.Errorf("%d listxattr and %d getxattr calls, want 1 and 0", lists, gets)
		}
	})
}

// The trusted namespace (root only) is the one a symlink can carry on both
// filesystems, so it proves ListXattrs and SetXattrs act on the link itself.
func TestXattrsDoNotFollowSymlinks(t *testing.T) {
	requireRoot(t)
	forEachFS(t, func(t *testing.T, fsys testFS) {
		requireXattrs(t, fsys, "trusted.cairn.probe")
		target, link := fsys.path("target"), fsys.path("link")
		writeFile(t, target, nil)
		mustDo(t, Symlink("target", link))
		mustDo(t, SetXattrs(target, []Xattr{{Name: "trusted.cairn.of-target", Value: []byte("t")}}))
		mustDo(t, SetXattrs(link, []Xattr{{Name: "trusted.cairn.of-link", Value: []byte("l")}}))

		onLink, err := ListXattrs(link)
		mustDo(t, err)
		onTarget, err := ListXattrs(target)
		mustDo(t, err)
		if !hasXattr(onLink, "trusted.cairn.of-link") || hasXattr(onLink, "trusted.cairn.of-target") {
			t.Errorf("link's xattrs %v", names(onLink))
		}
		if hasXattr(onTarget, "trusted.cairn.of-link") {
			t.Errorf("SetXattrs on the link reached the target: %v", names(onTarget))
		}
	})
}

// A namespace the kernel does not know is a real ENOTSUP from the VFS, on
// any filesystem: the error must carry the sentinel, and the other
// attributes must still be set.
func TestSetXattrsUnsupportedNamespace(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys testFS) {
		requireXattrs(t, fsys, "user.cairn.probe")
		path := fsys.path("file")
		writeFile(t, path, nil)
		err := SetXattrs(path, []Xattr{
			{Name: "cairnbogus.a", Value: []byte("1")},
			{Name: "user.cairn.kept", Value: []byte("2")},
		})
		if !errors.Is(err, ErrXattrUnsupported) || !strings.Contains(err.Error(), "cairnbogus.a") {
			t.Errorf("err = %v, want ErrXattrUnsupported naming the attribute", err)
		}
		xs, lerr := ListXattrs(path)
		mustDo(t, lerr)
		if !hasXattr(xs, "user.cairn.kept") {
			t.Errorf("the supported attribute was not set: %v", names(xs))
		}
	})
}

// Linux refuses user. attributes on symlinks with EPERM. That is a real
// failure and must not be dressed as "unsupported", even beside one.
func TestSetXattrsRealFailureIsNotUnsupported(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys testFS) {
		link := fsys.path("link")
		mustDo(t, Symlink("nowhere", link))
		err := SetXattrs(link, []Xattr{
			{Name: "user.cairn.x", Value: []byte("1")},
			{Name: "cairnbogus.a", Value: []byte("1")},
		})
		if err == nil || errors.Is(err, ErrXattrUnsupported) || !errors.Is(err, unix.EPERM) {
			t.Errorf("err = %v, want EPERM without ErrXattrUnsupported", err)
		}
	})
}

func TestSetXattrsNone(t *testing.T) {
	if err := SetXattrs(t.TempDir()+"/missing", nil); err != nil {
		t.Errorf("SetXattrs with nothing to set = %v", err)
	}
}

// fakeXattrs plays a file whose attributes the test controls between calls.
type fakeXattrs struct {
	attrs   map[string][]byte
	listErr error
	getErr  error
	// racing: the list is always longer than the buffer offered, as for a
	// file whose attributes keep growing between size query and read.
	racing bool
	calls  int
}

func (f *fakeXattrs) sys() xattrSys {
	return xattrSys{list: f.list, get: f.get}
}

func (f *fakeXattrs) list(_ string, dest []byte) (int, error) {
	f.calls++
	if f.listErr != nil {
		return 0, f.listErr
	}
	if f.racing && len(dest) > 0 {
		return 0, unix.ERANGE
	}
	var list []byte
	for _, name := range slices.Sorted(mapKeys(f.attrs)) {
		list = append(append(list, name...), 0)
	}
	return fill(dest, list)
}

func (f *fakeXattrs) get(_, name string, dest []byte) (int, error) {
	if f.getErr != nil {
		return 0, f.getErr
	}
	v, ok := f.attrs[name]
	if !ok {
		return 0, unix.ENODATA
	}
	return fill(dest, v)
}

// fill mimics the kernel: an empty dest asks for the size, a short one is
// ERANGE.
func fill(dest, src []byte) (int, error) {
	if len(dest) == 0 {
		return len(src), nil
	}
	if len(dest) < len(src) {
		return 0, unix.ERANGE
	}
	return copy(dest, src), nil
}

func mapKeys(m map[string][]byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestListXattrsFaults(t *testing.T) {
	big := bytes.Repeat([]byte("v"), 70000)
	tests := []struct {
		name    string
		fake    *fakeXattrs
		want    []string
		wantErr error
	}{
		{"filesystem without xattrs", &fakeXattrs{listErr: unix.ENOTSUP}, nil, nil},
		{"list fails", &fakeXattrs{listErr: unix.EACCES}, nil, unix.EACCES},
		{"get fails", &fakeXattrs{attrs: map[string][]byte{"user.a": nil}, getErr: unix.EIO}, nil, unix.EIO},
		{"value larger than any buffer", &fakeXattrs{attrs: map[string][]byte{"user.b": big, "user.a": nil}},
			[]string{"user.a", "user.b"}, nil},
		{"list keeps growing", &fakeXattrs{attrs: map[string][]byte{"user.a": nil}, racing: true}, nil, unix.ERANGE},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			xs, err := tc.fake.sys().listAll("/fake")
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !slices.Equal(names(xs), tc.want) {
				t.Errorf("names %v, want %v", names(xs), tc.want)
			}
			if tc.name == "value larger than any buffer" && !bytes.Equal(xs[1].Value, big) {
				t.Error("big value corrupted")
			}
			if tc.fake.racing && tc.fake.calls != 2*xattrMaxAttempts {
				t.Errorf("%d list calls, want the bound %d", tc.fake.calls, 2*xattrMaxAttempts)
			}
		})
	}
}

// An attribute removed between listing and reading no longer exists; the
// rest must still come back.
func TestListXattrsVanishedAttribute(t *testing.T) {
	f := &fakeXattrs{attrs: map[string][]byte{"user.a": []byte("1"), "user.b": []byte("2")}}
	sys := f.sys()
	list := sys.list
	sys.list = func(p string, b []byte) (int, error) {
		n, err := list(p, b)
		delete(f.attrs, "user.a")
		return n, err
	}
	xs, err := sys.listAll("/fake")
	if err != nil || !slices.Equal(names(xs), []string{"user.b"}) {
		t.Errorf("got %v, %v; want [user.b]", names(xs), err)
	}
}

func names(xs []Xattr) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x.Name)
	}
	return out
}

func hasXattr(xs []Xattr, name string) bool {
	return slices.ContainsFunc(xs, func(x Xattr) bool { return x.Name == name })
}

func xattrsEqual(a, b []Xattr) bool {
	return slices.EqualFunc(a, b, func(x, y Xattr) bool {
		return x.Name == y.Name && bytes.Equal(x.Value, y.Value)
	})
}
