package repocli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/blob/location"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// url returns the repository URL from --repo or CAIRN_REPOSITORY.
func (g *globals) url() (string, error) {
	if g.repoURL == "" {
		g.repoURL = os.Getenv(envRepository)
	}
	if g.repoURL == "" {
		return "", errors.New("no repository given: pass --repo URL or set " + envRepository)
	}
	return g.repoURL, nil
}

// remote reports whether the repository is in an object store rather than
// a local directory: remote repositories want more requests in flight.
func (g *globals) remote() bool {
	raw, err := g.url()
	if err != nil {
		return false
	}
	u, err := location.Parse(raw)
	return err == nil && u.Kind == location.KindS3
}

// repoOptions are the Init/Open options the flags select.
func (g *globals) repoOptions() repo.Options {
	var o repo.Options
	if g.kdfFast {
		o.KDF = crypto.FastKDFForTests
	}
	o.IndexCache, o.MaxMemory = g.cacheDir, g.maxBytes
	return o
}

// openRepo asks for the password, opens the store and unlocks the
// repository. The caller closes it.
func (g *globals) openRepo(cmd *cobra.Command) (*repo.Repository, error) {
	if _, err := g.url(); err != nil {
		return nil, err
	}
	pw, err := g.password(cmd, false)
	if err != nil {
		return nil, err
	}
	ctx := cmd.Context()
	store, err := g.openStore(cmd, false)
	if err != nil {
		return nil, err
	}
	opts := g.repoOptions()
	opts.Warn = func(err error) { warnf(cmd, "%s", err) }
	r, err := repo.Open(ctx, store, pw, opts)
	if err != nil {
		_ = store.Close()
		if errors.Is(err, crypto.ErrWrongPassword) {
			return nil, &wrongPasswordError{location: store.Location(), err: err}
		}
		return nil, err
	}
	return r, nil
}

// warnf prints one warning line on stderr, the form every command uses.
func warnf(cmd *cobra.Command, format string, args ...any) {
	fmt.Fprintf(cmd.ErrOrStderr(), "cairn: warning: "+format+"\n", args...)
}

// wrongPasswordError says the one thing a wrong password needs. The
// library's message repeats its advice from two layers; it stays reachable
// through Unwrap.
type wrongPasswordError struct {
	location string
	err      error
}

func (e *wrongPasswordError) Error() string {
	msg := "open " + e.location + ": wrong password: it opens none of the repository's keys; check " +
		envPassword + " or --password-file"
	var ue *repo.UnlockError
	if errors.As(e.err, &ue) && len(ue.Damaged) > 0 {
		msg += fmt.Sprintf(". %s damaged and opened by no password; if this password is right, its key may be one of them: "+
			"open the repository with another password, run 'cairn repo check' and add this password again with 'cairn repo key add'",
			plural(len(ue.Damaged), "key file is", "key files are"))
	}
	return msg
}

func (e *wrongPasswordError) Unwrap() error { return e.err }

// withRepo runs fn on the opened repository and closes it afterwards.
func (g *globals) withRepo(cmd *cobra.Command, fn func(ctx context.Context, r *repo.Repository) error) error {
	r, err := g.openRepo(cmd)
	if err != nil {
		return err
	}
	defer r.Close()
	// Credentials that open the repository may still lack a permission a
	// command needs (writing, deleting).
	return g.credentialsHint(fn(cmd.Context(), r))
}

// withIndex is withRepo with the index loaded, for commands that read blobs.
func (g *globals) withIndex(cmd *cobra.Command, fn func(ctx context.Context, r *repo.Repository) error) error {
	return g.withRepo(cmd, func(ctx context.Context, r *repo.Repository) error {
		if err := r.LoadIndex(ctx); err != nil {
			return err
		}
		return fn(ctx, r)
	})
}
