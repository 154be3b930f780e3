package cli

import (
	"github.com/spf13/cobra"
)

// newCompletionCmd writes shell completion scripts. Names of backups,
// restores, schedules and locations complete from the cluster.
func newCompletionCmd(root *cobra.Command) *cobra.Command {
	root.CompletionOptions.DisableDefaultCmd = true
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Print a completion script for bash, zsh or fish. For example:

  source <(cairn completion bash)
  cairn completion zsh > "${fpath[1]}/_cairn"
  cairn completion fish > ~/.config/fish/completions/cairn.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      exactArgs(1, "one shell: bash, zsh or fish"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return usageErrorf("unknown shell %q; use bash, zsh or fish", args[0])
		},
	}
	return cmd
}
