package repocli

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/blob/location"
)

// maxParallel bounds the worker and upload counts a user may ask for: each
// one holds up to a 16 MiB buffer, so 64 already means a GiB of buffers,
// and two cores gain nothing from more.
const maxParallel = 64

// flagError names the flag, the value given and what is allowed.
func flagError(cmd *cobra.Command, name string, value any, allowed string) error {
	return fmt.Errorf("--%s %v: %s; see '%s --help'", name, value, allowed, cmd.CommandPath())
}

// checkCount rejects a worker or upload count outside 1..maxParallel when
// the flag was given; left unset, the command's default applies.
func checkCount(cmd *cobra.Command, name string, v int) error {
	if !cmd.Flags().Changed(name) || (v >= 1 && v <= maxParallel) {
		return nil
	}
	return flagError(cmd, name, v, fmt.Sprintf("must be between 1 and %d", maxParallel))
}

// checkTags accepts only key=value tags with a non-empty key: snapshots
// are filtered by exact tags, and a tag without "=" is nearly always a
// mistake (a value passed as the next flag's argument).
func checkTags(cmd *cobra.Command, name string, tags []string) error {
	for _, t := range tags {
		k, _, ok := strings.Cut(t, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\n,") || strings.Contains(t, ",") {
			return flagError(cmd, name, fmt.Sprintf("%q", t), "want key=value, a key without spaces and no commas")
		}
	}
	return nil
}

// checkGrace rejects a grace period that is not positive.
func checkGrace(cmd *cobra.Command, name string, d time.Duration) error {
	if d > 0 {
		return nil
	}
	return flagError(cmd, name, d, "must be a positive duration, such as 1h or 30m")
}

// checkRatio accepts a share in (0, 1].
func checkRatio(cmd *cobra.Command, name string, r float64) error {
	if !math.IsNaN(r) && r > 0 && r <= 1 {
		return nil
	}
	return flagError(cmd, name, r, "must be a share greater than 0 and at most 1, such as 0.25")
}

// checkGlobals validates the flags every command shares, before any I/O.
func (g *globals) checkGlobals(cmd *cobra.Command) error {
	if err := location.CheckEndpoint(g.s3.endpoint); err != nil {
		return fmt.Errorf("--s3-endpoint: %w", err)
	}
	return nil
}
