package repocli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Environment variables the CLI reads.
const (
	envRepository = "CAIRN_REPOSITORY"
	envPassword   = "CAIRN_PASSWORD"
	envCacheDir   = "CAIRN_CACHE_DIR"
)

// globals are the flags every repo subcommand shares.
type globals struct {
	repoURL      string
	passwordFile string
	json         bool
	s3           s3Flags
	kdfFast      bool
	// maxMemory is --max-memory as given, maxBytes parsed; cacheDir is
	// the index cache directory, "" for none.
	maxMemory string
	maxBytes  int64
	cacheDir  string
}

type s3Flags struct {
	endpoint  string
	region    string
	pathStyle bool
	caCert    string
}

// NewCommand returns the "repo" command tree.
func NewCommand() *cobra.Command {
	g := &globals{}
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Work with a cairn repository directly: back up, restore, check, prune",
		Long: `Work with a cairn repository directly, without Kubernetes.

The repository is a local directory or an S3 location, given with --repo or
CAIRN_REPOSITORY. The password comes from --password-file, CAIRN_PASSWORD, or
a prompt when stdin is a terminal. S3 credentials come from the AWS
environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, AWS_REGION).

Exit codes: 0 success, 1 error, 3 finished but some entries could not be
read (backup, snapshots) or their metadata restored (restore); 4 a restore
finished but files are damaged because the repository lost or corrupted
their data. Each is listed on stderr.`,
	}
	group(cmd)
	g.addFlags(cmd.PersistentFlags())
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return g.checkGlobals(c) }
	cmd.AddCommand(
		newInitCmd(g), newBackupCmd(g), newSnapshotsCmd(g), newLsCmd(g),
		newRestoreCmd(g), newForgetCmd(g), newPruneCmd(g), newCheckCmd(g),
		newStatsCmd(g), newKeyCmd(g), newRepairCmd(g),
	)
	quiet(cmd)
	return cmd
}

func (g *globals) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&g.repoURL, "repo", "r", "", "repository: a directory, file:///path or s3://bucket[/prefix] (default $"+envRepository+")")
	fs.StringVar(&g.passwordFile, "password-file", "", "read the repository password from this file (default $"+envPassword+", else a prompt)")
	fs.BoolVar(&g.json, "json", false, "print machine-readable JSON on stdout")
	fs.StringVar(&g.s3.endpoint, "s3-endpoint", "", "S3 endpoint, http(s)://host:port (default AWS)")
	fs.StringVar(&g.s3.region, "s3-region", "", "S3 region (default $AWS_REGION, else asked from the server)")
	fs.BoolVar(&g.s3.pathStyle, "s3-path-style", true, "use path-style S3 URLs, as most non-AWS servers need")
	fs.StringVar(&g.s3.caCert, "s3-ca-cert", "", "PEM file of a CA that signed the S3 server's certificate")
	fs.StringVar(&g.maxMemory, "max-memory", "", "memory budget, e.g. 512MiB: the index is read from a local cache instead of memory, "+
		"and check, prune and restore plan in bounded batches (default: the whole index in memory)")
	fs.StringVar(&g.cacheDir, "cache-dir", "", "directory of the local index cache (default $"+envCacheDir+
		", else the user cache directory when --max-memory is given)")
	fs.BoolVar(&g.kdfFast, "kdf-fast", false, "TESTS ONLY: weak password hashing for new keys; never use for a real repository")
	_ = fs.MarkHidden("kdf-fast")
}

// quiet leaves error printing to the caller, which prints one line, and
// points flag and argument mistakes at the command's help.
func quiet(cmd *cobra.Command) {
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w; see '%s --help'", err, c.CommandPath())
	})
	for _, c := range cmd.Commands() {
		quiet(c)
	}
}

// group makes a command that only holds subcommands print its help when
// called alone and fail on an unknown subcommand (cobra would print the
// help and exit 0).
func group(cmd *cobra.Command) {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unknown command %q for %q; see '%s --help'", args[0], c.CommandPath(), c.CommandPath())
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// exactArgs is cobra.ExactArgs with a message that says what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s takes %s; see '%s --help'", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}

// rangeArgs accepts between lo and hi arguments.
func rangeArgs(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return fmt.Errorf("%s takes %s; see '%s --help'", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}
