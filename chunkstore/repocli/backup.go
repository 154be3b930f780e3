package repocli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

type backupFlags struct {
	tags        []string
	parent      string
	force       bool
	stats       bool
	compression string
	block       bool
	host        string
	workers     int
	uploads     int
}

func newBackupCmd(g *globals) *cobra.Command {
	f := &backupFlags{}
	cmd := &cobra.Command{
		Use:   "backup [flags] PATH...",
		Short: "Back up files and directories, or a block device or image",
		Long: `Back up the given paths as one new snapshot.

Files whose size, times and inode match the parent snapshot are not read
again. The parent is the latest snapshot of the same paths and kind, unless
--parent names another one or --force disables it (every file is read; data
still deduplicates).

With --block, the single PATH is a block device or image file, backed up as
raw bytes; all-zero ranges are not stored.

Entries that cannot be read are left out and listed on stderr, and the exit
code is 3 instead of 0.`,
		Example: "  cairn repo backup --repo /srv/backups --tag app=db /var/lib/db\n" +
			"  cairn repo backup --repo /srv/backups --block /dev/vg0/data",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("backup needs at least one PATH; see '%s --help'", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return g.runBackup(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.tags, "tag", nil, "tag the snapshot, as key=value (repeatable)")
	fl.StringVar(&f.parent, "parent", "", "compare against this snapshot (ID, prefix or \"latest\") instead of the latest of the same paths")
	fl.BoolVar(&f.force, "force", false, "use no parent: read every file again")
	fl.BoolVar(&f.stats, "stats", false, "print the busy time of each pipeline stage")
	fl.StringVar(&f.compression, "compression", "", "compression for this backup: "+compressionChoices+" (default: the repository's)")
	fl.BoolVar(&f.block, "block", false, "back up one block device or image file as raw bytes")
	fl.StringVar(&f.host, "host", "", "host name to record (default: this host)")
	fl.IntVar(&f.workers, "workers", 0, "chunking workers (default: one per CPU)")
	fl.IntVar(&f.uploads, "uploads", 0, fmt.Sprintf("packs uploaded at once (default %d to object stores, %d to a directory)", repo.DefaultUploads, repo.LocalUploads))
	cmd.MarkFlagsMutuallyExclusive("parent", "force")
	return cmd
}

func (g *globals) runBackup(cmd *cobra.Command, f *backupFlags, args []string) error {
	opts, err := f.options(cmd)
	if err != nil {
		return err
	}
	if f.uploads <= 0 && !g.remote() {
		opts.Uploads = repo.LocalUploads
	}
	paths, err := sourcePaths(args, f.block)
	if err != nil {
		return err
	}
	return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
		if err := f.chooseParent(ctx, r, &opts, paths); err != nil {
			return err
		}
		prog := &archiver.Progress{}
		opts.Progress = prog
		stop := startProgress(cmd, "backup", func() (int64, int64) {
			return prog.BytesDone.Load(), prog.BytesTotal.Load()
		})
		res, err := archiver.Backup(ctx, r, paths, opts)
		stop()
		if err != nil {
			return err
		}
		return g.reportBackup(cmd, res, f.stats, opts)
	})
}

// options turns the flags into archiver options, before any I/O.
func (f *backupFlags) options(cmd *cobra.Command) (archiver.Options, error) {
	comp, err := compressionOverride(cmd.Flags().Changed("compression"), f.compression)
	if err != nil {
		return archiver.Options{}, err
	}
	if err := checkTags(cmd, "tag", f.tags); err != nil {
		return archiver.Options{}, err
	}
	if err := checkCount(cmd, "workers", f.workers); err != nil {
		return archiver.Options{}, err
	}
	if err := checkCount(cmd, "uploads", f.uploads); err != nil {
		return archiver.Options{}, err
	}
	opts := archiver.Options{Workers: f.workers, Uploads: f.uploads, Compression: comp,
		Block: f.block, Tags: f.tags, Hostname: f.host, Program: "cairn repo backup"}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0) // the archiver's default, made explicit for --stats
	}
	if opts.Uploads <= 0 {
		opts.Uploads = repo.DefaultUploads
	}
	return opts, nil
}

// sourcePaths makes the paths absolute, as snapshots record them, and fails
// early on a path that does not exist rather than saving an empty snapshot.
func sourcePaths(args []string, block bool) ([]string, error) {
	if block && len(args) != 1 {
		return nil, errors.New("backup --block takes exactly one device or image file")
	}
	out := make([]string, len(args))
	for i, a := range args {
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, fmt.Errorf("backup %s: %w", a, err)
		}
		if _, err := os.Lstat(abs); err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		if block {
			if err := archiver.CheckBlockSource(abs); err != nil {
				return nil, err
			}
		}
		out[i] = abs
	}
	return out, nil
}

// chooseParent resolves --parent, or finds the latest snapshot of the same
// paths and kind unless --force.
func (f *backupFlags) chooseParent(ctx context.Context, r *repo.Repository, opts *archiver.Options, paths []string) error {
	var parent snapshot.Stored
	switch {
	case f.force:
		return nil
	case f.parent != "":
		s, err := snapshot.Find(ctx, r, f.parent)
		if err != nil {
			return fmt.Errorf("parent: %w", err)
		}
		parent = s
	default:
		kind := snapshot.KindFiles
		if f.block {
			kind = snapshot.KindBlock
		}
		s, ok, err := snapshot.Latest(ctx, r, kind, paths)
		if err != nil || !ok {
			return err
		}
		parent = s
	}
	id := parent.ID
	opts.Parent, opts.ParentID = parent.Snapshot, &id
	return nil
}
