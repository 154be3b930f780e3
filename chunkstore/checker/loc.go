package checker

import (
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
)

func repoLocation(p core.ID, b index.Blob) index.Location {
	return index.Location{Pack: p, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}
}
