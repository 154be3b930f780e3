package repocli

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
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
	return g.checkMemory()
}

// minMaxMemory is the smallest budget accepted: below it the fixed costs
// (pack buffers, sort and read buffers) do not fit.
const minMaxMemory = 64 << 20

// checkMemory parses --max-memory and picks the cache directory.
func (g *globals) checkMemory() error {
	if g.cacheDir == "" {
		g.cacheDir = os.Getenv(envCacheDir)
	}
	if g.maxMemory != "" {
		n, err := humanize.ParseBytes(g.maxMemory)
		if err != nil {
			return fmt.Errorf("--max-memory %q is not a size; give bytes with a unit, e.g. 512MiB or 2GiB", g.maxMemory)
		}
		if n < minMaxMemory || n > math.MaxInt64 {
			return fmt.Errorf("--max-memory %s is below the 64MiB cairn needs at least", g.maxMemory)
		}
		g.maxBytes = int64(n)
		// The budget is the Go heap's soft limit too: the garbage
		// collector works harder near it instead of letting the heap
		// double past what the bounded structures hold.
		debug.SetMemoryLimit(g.maxBytes)
	}
	if g.cacheDir == "" && g.maxBytes > 0 {
		dir, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("--max-memory needs an index cache directory and there is no user cache directory (%w); pass --cache-dir", err)
		}
		g.cacheDir = filepath.Join(dir, "cairn")
	}
	return nil
}
