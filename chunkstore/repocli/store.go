package repocli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

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
	store, err := location.Open(ctx, raw, location.Options{
		Create:     create,
		S3Endpoint: g.s3.endpoint,
		Region:     g.s3.region,
		PathStyle:  g.s3.pathStyle,
		CACertFile: g.s3.caCert,
	})
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok && g.s3.caCert == "" {
		return nil, fmt.Errorf("%w; if the server's certificate comes from a private CA, pass that CA with --s3-ca-cert FILE", err)
	}
	return store, err
}
