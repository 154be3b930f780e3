package fs

import (
	"errors"
	iofs "io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

func TestTranslate(t *testing.T) {
	pathErr := func(errno syscall.Errno) error {
		return &iofs.PathError{Op: "open", Path: "/repo/data/ab/abcd", Err: errno}
	}
	tests := []struct {
		name  string
		op    string
		err   error
		want  error // nil: no sentinel
		cause error
	}{
		{"missing", "get", pathErr(syscall.ENOENT), blob.ErrNotFound, syscall.ENOENT},
		{"file in the way on read", "get", pathErr(syscall.ENOTDIR), blob.ErrNotFound, syscall.ENOTDIR},
		{"file in the way on put", "put", pathErr(syscall.ENOTDIR), nil, syscall.ENOTDIR},
		{"access", "put", pathErr(syscall.EACCES), blob.ErrPermission, syscall.EACCES},
		{"perm", "delete", pathErr(syscall.EPERM), blob.ErrPermission, syscall.EPERM},
		{"read-only fs", "put", pathErr(syscall.EROFS), blob.ErrPermission, syscall.EROFS},
		{"disk full", "put", pathErr(syscall.ENOSPC), blob.ErrNoSpace, syscall.ENOSPC},
		{"quota", "put", pathErr(syscall.EDQUOT), blob.ErrNoSpace, syscall.EDQUOT},
		{"io error", "get", pathErr(syscall.EIO), nil, syscall.EIO},
		{"already a range error", "get", blob.ErrRange, blob.ErrRange, blob.ErrRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := translate(tc.op, "data/ab/abcd", tc.err)
			if !strings.HasPrefix(got.Error(), "fs "+tc.op+" data/ab/abcd: ") {
				t.Errorf("message %q does not start with the op and name", got)
			}
			if !errors.Is(got, tc.cause) {
				t.Errorf("%v does not wrap the cause %v", got, tc.cause)
			}
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v, want sentinel %v", got, s, !(s == tc.want), tc.want)
				}
			}
		})
	}
}
