package repocli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repo"
)

func newInitCmd(g *globals) *cobra.Command {
	var compression string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a repository",
		Long: `Create a repository at --repo. A local directory is created if missing;
an S3 bucket is created if missing. The password is asked twice when it comes
from the terminal. Keep it safe: without it the data cannot be read.`,
		Example: "  CAIRN_PASSWORD=... cairn repo init --repo /srv/backups\n" +
			"  cairn repo init --repo s3:bucket/cairn --s3-endpoint https://minio:9000",
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.runInit(cmd, compression)
		},
	}
	cmd.Flags().StringVar(&compression, "compression", "", "default compression of the repository: "+compressionChoices+
		" (default "+repo.DefaultCompression.String()+")")
	return cmd
}

type initResult struct {
	ID          string `json:"id"`
	Location    string `json:"location"`
	Compression string `json:"compression"`
	KeyID       string `json:"key_id"`
}

func (g *globals) runInit(cmd *cobra.Command, compression string) error {
	level, err := compressionOverride(cmd.Flags().Changed("compression"), compression)
	if err != nil {
		return err
	}
	if _, err := g.url(); err != nil {
		return err
	}
	pw, err := g.password(cmd, true)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	store, err := g.openStore(ctx, true)
	if err != nil {
		return err
	}
	opts := g.repoOptions()
	opts.Compression = level
	r, err := repo.Init(ctx, store, pw, opts)
	if err != nil {
		_ = store.Close()
		return err
	}
	defer r.Close()
	res := initResult{ID: r.Config().ID.String(), Location: r.Location(),
		Compression: r.Config().Compression, KeyID: r.KeyID().String()}
	if g.json {
		return writeJSON(cmd.OutOrStdout(), res)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "created repository %s at %s (compression %s)\n",
		r.Config().ID.Short(), res.Location, res.Compression)
	return nil
}
