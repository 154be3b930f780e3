package repocli

import (
	"github.com/cairnbackup/cairn/chunkstore/compress"
)

const compressionChoices = "off, fastest, default, better"

// compressionOverride returns nil when the flag was not given, so the
// library's or repository's default applies. The library's error names the
// accepted levels.
func compressionOverride(changed bool, s string) (*compress.Level, error) {
	if !changed {
		return nil, nil
	}
	l, err := compress.ParseLevel(s)
	if err != nil {
		return nil, err
	}
	return &l, nil
}
