package repocli

import (
	"context"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/location"
)

// openStore opens the --repo location. S3 credentials are left empty so
// the location package takes them from the AWS environment variables.
func (g *globals) openStore(ctx context.Context, create bool) (blob.Store, error) {
	raw, err := g.url()
	if err != nil {
		return nil, err
	}
	return location.Open(ctx, raw, location.Options{
		Create:     create,
		S3Endpoint: g.s3.endpoint,
		Region:     g.s3.region,
		PathStyle:  g.s3.pathStyle,
		CACertFile: g.s3.caCert,
	})
}
