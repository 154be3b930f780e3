// Command cairn is the cairn command-line interface. The cluster commands
// (install, location, backup, restore, schedule) live in controlplane/cli;
// "cairn repo" works with a repository directly, from chunkstore/repocli
// (cairn-repo is the same tree in a binary without the cluster client).
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/repocli"
	"github.com/cairnbackup/cairn/cmd/internal/clirun"
	"github.com/cairnbackup/cairn/controlplane/cli"
	"github.com/cairnbackup/cairn/csi/check"
)

func main() {
	root := cli.NewCommand(cli.Config{Extra: []*cobra.Command{repocli.NewCommand(), check.NewCommand()}})
	os.Exit(clirun.Run("cairn", root, exitCode))
}

// exitCode is the cluster CLI's code (0, 1, 2), or the repository CLI's
// own (3: finished with unreadable entries) for what cairn repo returns.
func exitCode(err error) int {
	if code := cli.ExitCode(err); code != cli.ExitError {
		return code
	}
	return repocli.ExitCode(err)
}
