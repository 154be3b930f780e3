package repocli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/blob/location"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

func newInitCmd(g *globals) *cobra.Command {
	var compression string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a repository",
		Long: `Create a repository at --repo. A local directory is created if missing;
an S3 bucket is created if missing. The password is asked twice when it comes
from the terminal. Keep it safe: without it the data cannot be read.

The location must be empty: init refuses a directory or bucket prefix that
holds any object, whether part of a repository (a repository whose config
was lost must be restored, not created anew over its data) or not. A local
directory that holds only empty directories, such as the lost+found of a
fresh file system, is accepted with --force.`,
		Example: "  CAIRN_PASSWORD=... cairn repo init --repo /srv/backups\n" +
			"  cairn repo init --repo s3:bucket/cairn --s3-endpoint https://minio:9000",
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.runInit(cmd, compression, force)
		},
	}
	cmd.Flags().StringVar(&compression, "compression", "", "default compression of the repository: "+compressionChoices+
		" (default "+repo.DefaultCompression.String()+")")
	cmd.Flags().BoolVar(&force, "force", false, "create the repository in a local directory that holds only empty directories")
	return cmd
}

type initResult struct {
	ID          string `json:"id"`
	Location    string `json:"location"`
	Compression string `json:"compression"`
	KeyID       string `json:"key_id"`
}

func (g *globals) runInit(cmd *cobra.Command, compression string, force bool) error {
	level, err := compressionOverride(cmd.Flags().Changed("compression"), compression)
	if err != nil {
		return err
	}
	raw, err := g.url()
	if err != nil {
		return err
	}
	if u, err := location.Parse(raw); err == nil && u.Kind == location.KindFS {
		if err := checkInitDir(u.Path, force); err != nil {
			return err
		}
	}
	pw, err := g.password(cmd, true)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	store, err := g.openStore(cmd, true)
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

// errFoundFile ends the walk of checkInitDir at the first file.
var errFoundFile = errors.New("found a file")

// checkInitDir refuses a local directory that is not empty. Files are left
// to repo.Init, which refuses any object and says whether it belongs to a
// repository, except temporary files, which the store's listing hides. A
// tree of only directories needs --force, since it may be an emptied
// repository or a fresh file system's lost+found.
func checkInitDir(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	var file string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			file = p
			return errFoundFile
		}
		return nil
	})
	switch {
	case file != "" && !strings.HasPrefix(filepath.Base(file), ".tmp-"):
		return nil // repo.Init refuses it, naming what it is
	case file != "":
		return fmt.Errorf("init %s: %w: it holds %s, a temporary file of an interrupted write; create the repository in an empty directory", dir, repo.ErrNotEmpty, file)
	case err != nil:
		return fmt.Errorf("init %s: %w", dir, err)
	case !force:
		return fmt.Errorf("init %s: %w: it holds directories (%s), though no files; pass --force to create the repository in it", dir, repo.ErrNotEmpty, entries[0].Name())
	}
	return nil
}
