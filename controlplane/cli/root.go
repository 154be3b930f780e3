package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// DefaultNamespace is where cairn runs unless -n says otherwise.
const DefaultNamespace = "cairn-system"

// Config is what the binary hands the command tree.
type Config struct {
	Out, Err io.Writer
	// Now is the clock for ages and generated names; default time.Now.
	Now func() time.Time
	// Progress forces the --wait display: "tty" (redrawn lines), "plain"
	// (a line every few seconds) or "" to choose by whether Err is a
	// terminal.
	Progress string
	// PollInterval is how often --wait reads the cluster; default 1s.
	PollInterval time.Duration
	// Extra commands are added to the root unchanged (cairn repo).
	Extra []*cobra.Command
}

func (c Config) withDefaults() Config {
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Err == nil {
		c.Err = os.Stderr
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	return c
}

// NewCommand returns the root "cairn" command.
func NewCommand(cfg Config) *cobra.Command {
	e := &env{cfg: cfg.withDefaults()}
	root := &cobra.Command{
		Use:   "cairn",
		Short: "cairn backs up Kubernetes clusters and their volumes",
		Long: `cairn backs up Kubernetes clusters: their API objects and the data in their
volumes. It restores them into the same cluster or into another one.

Exit codes: 0 success, 1 failure, 2 usage error.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(e.cfg.Out)
	root.SetErr(e.cfg.Err)
	e.addGlobalFlags(root)
	root.AddCommand(
		newInstallCmd(e), newUninstallCmd(e), newLocationCmd(e), newBackupCmd(e),
		newRestoreCmd(e), newScheduleCmd(e), newVersionCmd(e), newCompletionCmd(root),
	)
	for _, c := range root.Commands() {
		prepare(e, c)
	}
	group(root)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(cfg.Extra...)
	return root
}

// prepare makes every command of the cluster CLI turn flag mistakes into
// usage errors, print help for bare groups, and explain API errors.
func prepare(e *env, cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(flagError)
	if cmd.HasSubCommands() && cmd.RunE == nil {
		group(cmd)
	}
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			return e.explain(run(c, args))
		}
	}
	for _, c := range cmd.Commands() {
		prepare(e, c)
	}
}

func flagError(c *cobra.Command, err error) error {
	return usageErrorf("%v; see '%s --help'", err, c.CommandPath())
}

// group makes a command that only holds subcommands print its help when
// called alone and fail with a usage error on an unknown subcommand.
func group(cmd *cobra.Command) {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErrorf("unknown command %q for %q; see '%s --help'", args[0], c.CommandPath(), c.CommandPath())
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// exactArgs requires n arguments, described by what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return rangeArgs(n, n, what)
}

// rangeArgs requires lo to hi arguments (hi < 0: no limit).
func rangeArgs(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || (hi >= 0 && len(args) > hi) {
			return usageErrorf("%s takes %s; see '%s --help'", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}

// ctxOf returns the command's context, which main cancels on Ctrl-C.
func ctxOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// printf writes to w; output errors (a closed pipe) are not the command's.
func printf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}
