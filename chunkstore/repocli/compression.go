package repocli

import (
	"github.com/cairnbackup/cairn/chunkstore/compress"
)

const (
	compressionChoices = "off, fastest, default, better"
	defaultCompression = "default"
)

// parseCompression parses a --compression value; the library's error names
// the accepted levels.
func parseCompression(s string) (compress.Level, error) {
	return compress.ParseLevel(s)
}

// compressionOverride returns nil when the flag was not given, so the
// repository's default applies.
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
