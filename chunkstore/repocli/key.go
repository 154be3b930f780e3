package repocli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

func newKeyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Manage the passwords (key files) that open the repository",
		Long: `Manage key files. Each key file wraps the same master key with its own
password, so adding or removing one never re-encrypts data. The new password
of add and passwd comes from --new-password-file, or is asked twice on the
terminal.`,
	}
	group(cmd)
	cmd.AddCommand(newKeyListCmd(g), newKeyAddCmd(g), newKeyRemoveCmd(g), newKeyPasswdCmd(g))
	return cmd
}

func newKeyListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List key files; * marks the one the password opened, ! a damaged one",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
				keys, err := r.Keys(ctx)
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd.OutOrStdout(), keys)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, " \tID\tCREATED\tHOST\tUSER")
				for _, k := range keys {
					mark := " "
					if k.Current {
						mark = "*"
					}
					if k.Damage != "" {
						fmt.Fprintf(tw, "!\t%s\tDAMAGED: opens no password; remove it and add its password again\t\t\n", k.ID.Short())
						continue
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, k.ID.Short(),
						k.Created.Local().Format("2006-01-02 15:04:05"), k.Hostname, k.Username)
				}
				return tw.Flush()
			})
		},
	}
}

func newKeyAddCmd(g *globals) *cobra.Command {
	return newPasswordKeyCmd(g, &cobra.Command{Use: "add", Short: "Add a key file for a new password"},
		"added key %s", func(ctx context.Context, r *repo.Repository, pw []byte) (core.ID, error) {
			return r.AddKey(ctx, pw, g.repoOptions())
		})
}

func newKeyPasswdCmd(g *globals) *cobra.Command {
	return newPasswordKeyCmd(g, &cobra.Command{Use: "passwd", Short: "Change the password of the key in use",
		Long: `Replace the key file the current password opens with one for a new
password. Other keys are untouched. Data is not re-encrypted.`},
		"password changed: key %s replaces the old one", func(ctx context.Context, r *repo.Repository, pw []byte) (core.ID, error) {
			return r.ChangePassword(ctx, pw, g.repoOptions())
		})
}

// newPasswordKeyCmd completes a command that asks for a new password and
// writes a key file for it with action.
func newPasswordKeyCmd(g *globals, cmd *cobra.Command, report string,
	action func(context.Context, *repo.Repository, []byte) (core.ID, error)) *cobra.Command {
	var file string
	cmd.Args = exactArgs(0, "no arguments")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
			pw, err := newPassword(cmd, file)
			if err != nil {
				return err
			}
			id, err := action(ctx, r, pw)
			if err != nil {
				return err
			}
			return g.reportKey(cmd, report, id)
		})
	}
	cmd.Flags().StringVar(&file, "new-password-file", "", "read the new password from this file (default: ask on the terminal)")
	return cmd
}

func newKeyRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a key file (not the one in use)",
		Args:  exactArgs(1, "exactly one key ID (or unique prefix; see 'cairn repo key list')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
				id, err := findKey(ctx, r, args[0])
				if err != nil {
					return err
				}
				if err := r.RemoveKey(ctx, id); err != nil {
					return err
				}
				return g.reportKey(cmd, "removed key %s", id)
			})
		},
	}
}

func (g *globals) reportKey(cmd *cobra.Command, format string, id core.ID) error {
	if g.json {
		return writeJSON(cmd.OutOrStdout(), map[string]string{"key_id": id.String()})
	}
	fmt.Fprintf(cmd.OutOrStdout(), format+"\n", id.Short())
	return nil
}

// findKey resolves a full key ID or a unique prefix of one.
func findKey(ctx context.Context, r *repo.Repository, ref string) (core.ID, error) {
	keys, err := r.Keys(ctx)
	if err != nil {
		return core.ID{}, err
	}
	var match []core.ID
	for _, k := range keys {
		if strings.HasPrefix(k.ID.String(), strings.ToLower(ref)) {
			match = append(match, k.ID)
		}
	}
	switch {
	case ref == "":
		return core.ID{}, fmt.Errorf("empty key ID; see 'cairn repo key list'")
	case len(match) == 0:
		return core.ID{}, fmt.Errorf("no key ID starts with %q; see 'cairn repo key list'", ref)
	case len(match) > 1:
		return core.ID{}, fmt.Errorf("key %q is ambiguous: %d IDs start with it; give more digits", ref, len(match))
	}
	return match[0], nil
}
