package repocli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/location"
)

// openStore opens the --repo location. S3 credentials are left empty so
// the location package takes them from the AWS environment variables.
func (g *globals) openStore(cmd *cobra.Command, create bool) (blob.Store, error) {
	ctx := cmd.Context()
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
		Warn:       func(err error) { warnf(cmd, "%s", err) },
	})
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok && g.s3.caCert == "" {
		return nil, fmt.Errorf("%w; if the server's certificate comes from a private CA, pass that CA with --s3-ca-cert FILE", err)
	}
	return store, g.credentialsHint(err)
}

// credentialsHint points an S3 permission error at where the CLI takes
// credentials from: the store only says the server refused them, and the
// usual cause is a variable not set in this shell.
func (g *globals) credentialsHint(err error) error {
	if err == nil || !errors.Is(err, blob.ErrPermission) || !g.remote() {
		return err
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" || os.Getenv("AWS_SECRET_ACCESS_KEY") == "" {
		return fmt.Errorf("%w; no S3 credentials were given: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)", err)
	}
	return fmt.Errorf("%w; check the S3 credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), and that they may use this bucket", err)
}
