package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

// errStopList ends a listing early.
var errStopList = errors.New("stop listing")

// checkEmpty refuses to create a repository where any object exists. A
// config means a repository is there; repository objects without one mean
// its config was lost, and a new config would lock the old data away for
// good (its keys wrap another master key); anything else is somebody
// else's data.
func checkEmpty(ctx context.Context, store blob.Store) error {
	if _, err := store.Stat(ctx, configName); err == nil {
		return fmt.Errorf("init %s: %w", store.Location(), ErrExists)
	} else if !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("init %s: %w", store.Location(), err)
	}
	var first string
	err := store.List(ctx, "", func(info blob.Info) error {
		first = info.Name
		return errStopList
	})
	if err != nil && !errors.Is(err, errStopList) {
		return fmt.Errorf("init %s: %w", store.Location(), err)
	}
	switch {
	case first == "":
		return nil
	case isRepositoryObject(first):
		return fmt.Errorf("init %s: %w: it holds repository objects (%s) but no config: the config was lost or removed; "+
			"restore the config from a copy of the repository instead of creating a new one over its data", store.Location(), ErrNotEmpty, first)
	}
	return fmt.Errorf("init %s: %w: it holds %s, which is not part of a repository; create the repository in an empty directory or bucket prefix",
		store.Location(), ErrNotEmpty, first)
}

func isRepositoryObject(name string) bool {
	dir, _, ok := strings.Cut(name, "/")
	if !ok {
		return false
	}
	switch dir {
	case KindKey, KindSnapshot, KindIndex, KindSession, KindPending, KindManifest, dataDir:
		return true
	}
	return false
}
