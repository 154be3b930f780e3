package contract

import (
	"errors"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"simple", "config", true},
		{"nested", "data/ab/abcdef", true},
		{"dot inside element", "a/.b/c.d", true},
		{"empty", "", false},
		{"absolute", "/etc/passwd", false},
		{"parent", "../x", false},
		{"parent in middle", "a/../b", false},
		{"dot element", "a/./b", false},
		{"double slash", "a//b", false},
		{"trailing slash", "a/", false},
		{"nul byte", "a\x00b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckName(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckName(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}

func TestCheckPrefix(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"everything", "", true},
		{"directory", "data/", true},
		{"partial element", "data/a", true},
		{"only slash", "/", false},
		{"parent", "../", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPrefix(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPrefix(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		name                 string
		offset, length, size int64
		end                  int64
		wantErr              bool
	}{
		{"whole", 0, -1, 10, 10, false},
		{"middle", 2, 3, 10, 5, false},
		{"to end", 4, -1, 10, 10, false},
		{"exact end", 4, 6, 10, 10, false},
		{"zero length at end", 10, 0, 10, 10, false},
		{"rest of nothing", 10, -1, 10, 10, false},
		{"empty object", 0, -1, 0, 0, false},
		{"past end", 11, 0, 10, 0, true},
		{"length past end", 4, 7, 10, 0, true},
		{"negative offset", -1, 1, 10, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			end, err := Range(tc.offset, tc.length, tc.size)
			if tc.wantErr {
				if !errors.Is(err, blob.ErrRange) {
					t.Fatalf("Range = %d, %v; want ErrRange", end, err)
				}
				return
			}
			if err != nil || end != tc.end {
				t.Fatalf("Range = %d, %v; want %d", end, err, tc.end)
			}
		})
	}
}
