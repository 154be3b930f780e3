package repocli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// password returns the repository password: from --password-file, else
// CAIRN_PASSWORD, else a no-echo prompt when stdin is a terminal. With
// confirm (repository init) a prompted password is asked twice.
func (g *globals) password(cmd *cobra.Command, confirm bool) ([]byte, error) {
	if g.passwordFile != "" {
		return readPasswordFile(g.passwordFile, "--password-file")
	}
	if pw := os.Getenv(envPassword); pw != "" {
		return []byte(pw), nil
	}
	fd, ok := terminalFd(cmd.InOrStdin())
	if !ok {
		return nil, errors.New("no repository password: set " + envPassword + " or pass --password-file FILE (there is no terminal to ask on)")
	}
	prompt := fmt.Sprintf("Password for %s: ", g.repoURL)
	if confirm {
		prompt = fmt.Sprintf("New password for %s: ", g.repoURL)
	}
	return promptPassword(cmd.ErrOrStderr(), fd, prompt, confirm)
}

// newPassword returns the password for a new key: from file, else asked
// twice on the terminal.
func newPassword(cmd *cobra.Command, file string) ([]byte, error) {
	if file != "" {
		return readPasswordFile(file, "--new-password-file")
	}
	fd, ok := terminalFd(cmd.InOrStdin())
	if !ok {
		return nil, errors.New("no new password: pass --new-password-file FILE (there is no terminal to ask on)")
	}
	return promptPassword(cmd.ErrOrStderr(), fd, "New password: ", true)
}

// readPasswordFile reads a password, dropping one trailing newline so that
// files written by echo work. The content never appears in errors.
func readPasswordFile(path, flag string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", flag, err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("%s %s is empty; put the password in it", flag, path)
	}
	return b, nil
}

func promptPassword(w io.Writer, fd int, prompt string, confirm bool) ([]byte, error) {
	pw, err := askOnce(w, fd, prompt)
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		return nil, errors.New("the password is empty; an empty password would leave the repository open to anyone with the storage")
	}
	if !confirm {
		return pw, nil
	}
	again, err := askOnce(w, fd, "Repeat the password: ")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(pw, again) {
		return nil, errors.New("the two passwords differ; nothing was changed, try again")
	}
	return pw, nil
}

func askOnce(w io.Writer, fd int, prompt string) ([]byte, error) {
	fmt.Fprint(w, prompt)
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(w)
	if err != nil {
		return nil, fmt.Errorf("read password from the terminal: %w", err)
	}
	return pw, nil
}

// terminalFd returns the descriptor of r when it is a terminal.
func terminalFd(r any) (int, bool) {
	f, ok := r.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}
